//! Serving inside a program that already runs an executor: `Server::serve`
//! on a `Smol` that spawns there, and `Runtime::connect` as the client.

use std::future::poll_fn;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use adapter_core::testing::{TestHandler, WAIT};
use adapter_smol::text::TextService;
use adapter_smol::{Runtime, Server, Smol, SmolStream, Stream};
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

/// Serves on `rt`'s executor, echoes two lines to a client connected with
/// `rt.connect`, then stops; every wait is bounded.
async fn serve_and_call(rt: Smol) {
    let server = Server::builder(TextService::new(TestHandler::default()))
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .handle_signals(false)
        .systemd_sockets(false)
        .build()
        .expect("server builds");
    let handle = server.handle();
    let addr = server.local_addrs()[0];
    let (done, serving) = smol::channel::bounded(1);
    rt.spawn({
        let rt = rt.clone();
        async move {
            let _ = done.send(server.serve(rt).await).await;
        }
    });

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

    handle.stop();
    timeout(WAIT, serving.recv())
        .await
        .expect("stops within the bound")
        .expect("the serving task reports")
        .expect("serves cleanly");
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
