//! HTTP and a WebSocket echo on one port, with the hardened defaults.
use adapter_tokio::web::{ClientOffer, HttpConn, Message, Request, WebConn, WebHandler};
use adapter_tokio::web::{WebService, WsConn, WsOpen};
use adapter_tokio::{Server, Tokio};

struct App;

impl WebHandler for App {
    type Context = (); // per-connection state, dropped when the connection closes
    fn on_connect(&self, _conn: &mut WebConn<'_>) {}
    fn on_request_end(&self, _: &mut (), http: &mut HttpConn<'_, '_>) {
        let _ = http.respond_with(200, "text/plain", "hello from rampart\n");
    }
    fn on_ws_open(&self, _: &mut (), _: &mut WebConn<'_>, _: &Request, _: &ClientOffer) -> WsOpen {
        WsOpen::accept() // the Origin is already checked (same host unless configured)
    }
    fn on_message(&self, _: &mut (), ws: &mut WsConn<'_, '_>, message: Message) {
        let _ = ws.send(&message); // echo
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder(WebService::new(App)).bind("127.0.0.1:8080".parse()?);
    Ok(server.build()?.run::<Tokio>()?) // SIGTERM: graceful stop; SIGUSR1: graceful reload
}
