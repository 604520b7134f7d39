//! Serving inside a program that already runs an executor: `Server::serve`
//! on a `Smol` that spawns there, and `Runtime::connect` as the client.

use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use adapter_core::testing::{TestHandler, WAIT};
use adapter_smol::text::TextService;
use adapter_smol::{Protocol, Runtime, Server, ServerHandle, Smol, SmolStream, Stream};
use async_std::future::timeout;

use crate::async_std::AsyncStd;

async fn send(stream: &mut SmolStream, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| stream.poll_write(cx, bytes)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        bytes = &bytes[n..];
    }
    Ok(())
}

/// Reads until EOF.
async fn read_to_end(stream: &mut SmolStream) -> io::Result<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    loop {
        match poll_fn(|cx| stream.poll_read(cx, &mut buf)).await? {
            0 => return Ok(got),
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A server serving on `rt`'s executor, in a task of its own.
struct Serving {
    handle: ServerHandle,
    addr: SocketAddr,
    done: smol::channel::Receiver<io::Result<()>>,
}

impl Serving {
    fn spawn<P: Protocol>(rt: &Smol, server: Server<P>) -> Self {
        let handle = server.handle();
        let addr = server.local_addrs()[0];
        let (report, done) = smol::channel::bounded(1);
        rt.spawn({
            let rt = rt.clone();
            async move {
                let _ = report.send(server.serve(rt).await).await;
            }
        });
        Self { handle, addr, done }
    }

    /// Stops the server and waits, bounded, for its task to end cleanly.
    async fn stop(self) {
        self.handle.stop();
        timeout(WAIT, self.done.recv())
            .await
            .expect("stops within the bound")
            .expect("the serving task reports")
            .expect("serves cleanly");
    }
}

/// Serves on `rt`'s executor, echoes two lines to a client connected with
/// `rt.connect`, then stops; every wait is bounded.
async fn serve_and_call(rt: Smol) {
    let server = Server::builder(TextService::new(TestHandler::default()))
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .handle_signals(false)
        .systemd_sockets(false)
        .build()
        .expect("server builds");
    let serving = Serving::spawn(&rt, server);
    let (handle, addr) = (serving.handle.clone(), serving.addr);

    let mut client = timeout(WAIT, rt.connect(addr))
        .await
        .expect("connects within the bound")
        .expect("connects");
    client.set_nodelay(true).expect("nodelay");
    send(&mut client, b"hello\nembedded\nquit\n")
        .await
        .expect("sends");
    let answer = timeout(WAIT, read_to_end(&mut client))
        .await
        .expect("answered within the bound")
        .expect("reads");
    assert_eq!(answer, b"hello\nembedded\n");
    poll_fn(|cx| client.poll_shutdown_write(cx))
        .await
        .expect("shuts down");
    drop(client);

    serving.stop().await;
    let stats = handle.stats();
    assert_eq!((stats.accepted, stats.closed), (1, 1));
}

#[test]
fn serves_inside_async_std_block_on_on_its_executor() {
    async_std::task::block_on(serve_and_call(AsyncStd::new().0));
}

#[test]
fn serves_inside_smol_block_on_on_the_global_executor() {
    smol::block_on(serve_and_call(Smol::global()));
}

#[test]
fn serves_on_an_executor_the_caller_runs() {
    let executor = Arc::new(smol::Executor::new());
    smol::block_on(executor.run(serve_and_call(Smol::with_executor(&executor))));
}

/// The reference server (HTTP and WebSocket) served on `rt`'s executor,
/// and adapter-core's clients on the same `rt`: a WebSocket echo round trip
/// with a clean close, an HTTP echo on a fresh connection, and a `GET` on
/// a kept-alive one; then a stop. Every wait is bounded.
async fn serve_and_use_the_clients(rt: Smol) {
    use adapter_smol::client::{Connector, Message, Request};

    let server = adapter_core::example::ReferenceOptions::parse(["--workers", "1"])
        .expect("options")
        .builder()
        .expect("builder")
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .handle_signals(false)
        .systemd_sockets(false)
        .build()
        .expect("server builds");
    let serving = Serving::spawn(&rt, server);
    let (handle, addr) = (serving.handle.clone(), serving.addr);

    let connector = Connector::new(rt.clone());
    timeout(WAIT, async {
        let mut ws = connector
            .websocket(&format!("ws://{addr}/echo"))
            .await
            .expect("the handshake completes");
        ws.send_text("hello from async-std").await.expect("sends");
        let echo = ws.recv().await.expect("a message").expect("no error");
        assert_eq!(echo.as_text(), Some("hello from async-std"));
        ws.send_binary(&[1, 2, 3]).await.expect("sends");
        let echo = ws.recv().await.expect("a message").expect("no error");
        assert_eq!(echo, Message::Binary(bytes::Bytes::from_static(&[1, 2, 3])));
        ws.close(1000, "bye").await.expect("closes");
        loop {
            match ws.recv().await {
                Some(Ok(Message::Close { code, .. })) => assert_eq!(code, 1000),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("{e}"),
                None => break,
            }
        }

        let echo = connector
            .http_request("POST", &format!("http://{addr}/echo"), "posted")
            .await
            .expect("answered");
        assert_eq!((echo.status(), echo.body().as_ref()), (200, &b"posted"[..]));

        let mut http = connector.http(addr).await.expect("connects");
        for _ in 0..2 {
            let mut request = Request::new("GET", "/stats");
            request.headers_mut().append("Host", addr.to_string());
            let stats = http.request(request, "").await.expect("answered");
            assert_eq!(stats.status(), 200);
            assert!(std::str::from_utf8(stats.body()).is_ok_and(|s| s.contains("\"pid\":")));
        }
    })
    .await
    .expect("the clients finish within the bound");

    serving.stop().await;
    let stats = handle.stats();
    assert_eq!((stats.ws_opened, stats.accepted, stats.closed), (1, 3, 3));
}

#[test]
fn server_and_clients_run_inside_async_std_block_on() {
    async_std::task::block_on(serve_and_use_the_clients(AsyncStd::new().0));
}

#[test]
fn server_and_clients_run_inside_smol_block_on() {
    smol::block_on(serve_and_use_the_clients(Smol::global()));
}
