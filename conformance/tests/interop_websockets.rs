//! Interop with Python `websockets` (issue 7, item 4), both ways:
//!
//! - websockets as a **client** of both reference servers' `/echo`
//!   (`scripts/websockets_client.py`, which asserts every step): text and
//!   binary echo, fragmented messages (a ping between fragments, a
//!   character split across fragments), 1 MiB messages, 100 messages in
//!   flight, ping/pong, the close handshake with codes 1000-4999, and close
//!   frames the server must refuse (1002, 1007);
//! - websockets as a **server** (`scripts/websockets_echo_server.py`) for
//!   adapter-core's `WsClient` on tokio and on smol: text and binary echo,
//!   1 MiB messages, 100 in flight, our ping and its pong, the server's
//!   ping and our automatic pong, fragmented messages from the server
//!   (whole and streamed), our close with a code and its echo, the server's
//!   close and our echo. Our client cannot *send* a fragmented message
//!   (`WsClient` has no fragment API; `proto_ws::Connection::send_data`
//!   exists but is not exposed), so that direction is covered only by the
//!   reference servers receiving websockets' fragments.
//!
//! Ignored in plain `cargo test`: `conformance/interop.sh` installs the
//! peers and runs this with `--include-ignored` and `RAMPART_INTEROP_PYTHON`
//! set; without it they fail rather than skip.

mod interop_support;

use adapter_core::Runtime;
use adapter_core::client::{ClientConfig, Connector, Message, MessageKind, WsClient};
use interop_support::{
    reference, run_bounded, run_python_script, start_python_server, start_reference,
};

const MIB: usize = 1 << 20;

fn websockets_client_against(package: &str) {
    let server = start_reference(&reference(package));
    run_python_script("websockets_client.py", &[&server.echo_url()]);
}

#[test]
#[ignore = "needs Python websockets in a virtual environment: run conformance/interop.sh"]
fn websockets_client_against_the_tokio_server() {
    websockets_client_against("adapter-tokio");
}

#[test]
#[ignore = "needs Python websockets in a virtual environment: run conformance/interop.sh"]
fn websockets_client_against_the_smol_server() {
    websockets_client_against("adapter-smol");
}

/// The next message, which must be there.
async fn next<R: Runtime>(ws: &mut WsClient<R>, what: &str) -> Message {
    match ws.recv().await {
        Some(Ok(message)) => message,
        Some(Err(e)) => panic!("{what}: the connection failed: {e}"),
        None => panic!("{what}: the connection ended"),
    }
}

/// Our close with `code` and `reason`; websockets echoes both (it sends
/// back the close frame's payload); then the connection ends.
async fn close_and_check_echo<R: Runtime>(ws: &mut WsClient<R>, code: u16, reason: &str) {
    ws.close(code, reason).await.expect("our close is sent");
    let echo = next(ws, "the close echo").await;
    assert_eq!(
        echo,
        Message::Close {
            code,
            reason: reason.to_owned()
        },
        "websockets' answer to our close {code} {reason:?}"
    );
    assert!(ws.recv().await.is_none(), "nothing after the close echo");
    assert_eq!(ws.state(), proto_ws::State::Closed);
}

async fn echo_round_trips<R: Runtime>(connector: &Connector<R>, base: &str) {
    let mut ws = connector
        .websocket(&format!("{base}/"))
        .await
        .expect("the handshake with websockets succeeds");
    assert_eq!(ws.protocol(), None);
    for text in ["hello", "", "héllo ☃ 😀 \u{0} end"] {
        ws.send_text(text).await.expect("send text");
        let echo = next(&mut ws, "text echo").await;
        assert_eq!(
            echo.as_text(),
            Some(text),
            "text echo of {text:?}: {echo:?}"
        );
    }
    let all: Vec<u8> = (0..=255).collect();
    for data in [&all[..], &[], &[0, 255, 0]] {
        ws.send_binary(data).await.expect("send binary");
        assert_eq!(
            next(&mut ws, "binary echo").await,
            Message::Binary(data.to_vec().into()),
            "binary echo of {} bytes",
            data.len()
        );
    }

    // 1 MiB each way, text (1- to 4-byte characters) and binary.
    let unit = "a€é😀"; // 10 bytes
    let text = unit.repeat(MIB / 10) + &"z".repeat(MIB % 10);
    assert_eq!(text.len(), MIB);
    ws.send_text(&text).await.expect("send 1 MiB text");
    let echo = next(&mut ws, "1 MiB text echo").await;
    assert!(echo.as_text() == Some(&text), "1 MiB text echo differs");
    let data: Vec<u8> = (0..MIB)
        .map(|i| (i * 31 + i / 257).to_le_bytes()[0])
        .collect();
    ws.send_binary(&data).await.expect("send 1 MiB binary");
    match next(&mut ws, "1 MiB binary echo").await {
        Message::Binary(echo) => assert!(echo[..] == data[..], "1 MiB binary echo differs"),
        other => panic!("1 MiB binary echo: got {other:?}"),
    }

    // 100 messages in flight, back in order.
    for i in 0..100 {
        ws.send_text(&format!("message {i}")).await.expect("send");
    }
    for i in 0..100 {
        let echo = next(&mut ws, "in-flight echo").await;
        assert_eq!(echo.as_text(), Some(format!("message {i}").as_str()));
    }

    // Our ping: websockets answers with a pong carrying the same payload.
    for payload in [&b"rampart"[..], b"", &[7; 125]] {
        ws.send_ping(payload).await.expect("send ping");
        assert_eq!(
            next(&mut ws, "pong").await,
            Message::Pong(payload.to_vec().into()),
            "the pong to our ping of {} bytes",
            payload.len()
        );
    }
    close_and_check_echo(&mut ws, 4001, "client bye ☃").await;

    let mut ws = connector.websocket(&format!("{base}/")).await.unwrap();
    close_and_check_echo(&mut ws, 1000, "").await;
}

async fn server_acts_first<R: Runtime>(connector: &Connector<R>, base: &str) {
    // The server pings; our pong is automatic and websockets says so.
    let mut ws = connector
        .websocket(&format!("{base}/interop/ping"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ws, "the server's ping").await,
        Message::Ping(b"from python".to_vec().into())
    );
    let verdict = next(&mut ws, "websockets' verdict on our pong").await;
    assert_eq!(verdict.as_text(), Some("pong received"), "{verdict:?}");
    close_and_check_echo(&mut ws, 1000, "bye").await;

    // Fragmented messages from the server arrive whole...
    let mut ws = connector
        .websocket(&format!("{base}/interop/fragments"))
        .await
        .unwrap();
    let text = next(&mut ws, "fragmented text").await;
    assert_eq!(text.as_text(), Some("fragmented ☃"), "{text:?}");
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(
        next(&mut ws, "fragmented binary").await,
        Message::Binary(all.clone().into())
    );
    close_and_check_echo(&mut ws, 3000, "").await;

    // ... and as pieces in streaming mode (offering a subprotocol the
    // server does not choose: none is agreed, and that is no failure).
    let mut config = ClientConfig::default();
    config.protocols(["chat"]).ws().streaming(true);
    let streaming = Connector::with_config(connector.runtime().clone(), config);
    let mut ws = streaming
        .websocket(&format!("{base}/interop/fragments"))
        .await
        .unwrap();
    assert_eq!(ws.protocol(), None);
    for (want_kind, want) in [
        (MessageKind::Text, "fragmented ☃".as_bytes().to_vec()),
        (MessageKind::Binary, all),
    ] {
        let mut got = Vec::new();
        loop {
            match next(&mut ws, "a streamed piece").await {
                Message::Data { kind, bytes, fin } => {
                    assert_eq!(kind, want_kind);
                    got.extend_from_slice(&bytes);
                    if fin {
                        break;
                    }
                }
                other => panic!("expected a streamed piece, got {other:?}"),
            }
        }
        assert_eq!(got, want, "the streamed {want_kind:?} message");
    }
    close_and_check_echo(&mut ws, 1000, "").await;

    // The server closes: its code and reason arrive, our echo ends it.
    let mut ws = connector
        .websocket(&format!("{base}/interop/close"))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ws, "the server's close").await,
        Message::Close {
            code: 4002,
            reason: "server bye".to_owned()
        }
    );
    assert!(
        ws.recv().await.is_none(),
        "nothing after the server's close"
    );
    assert_eq!(ws.state(), proto_ws::State::Closed);
}

fn our_client_against_websockets<R: Runtime>() {
    let server = start_python_server("websockets_echo_server.py");
    let base = format!("ws://{}", server.addr);
    run_bounded(|rt: R| async move {
        let connector = Connector::new(rt);
        echo_round_trips(&connector, &base).await;
        server_acts_first(&connector, &base).await;
    });
}

#[test]
#[ignore = "needs Python websockets in a virtual environment: run conformance/interop.sh"]
fn tokio_client_against_the_websockets_server() {
    our_client_against_websockets::<adapter_tokio::Tokio>();
}

#[test]
#[ignore = "needs Python websockets in a virtual environment: run conformance/interop.sh"]
fn smol_client_against_the_websockets_server() {
    our_client_against_websockets::<adapter_smol::Smol>();
}
