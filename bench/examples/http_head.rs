//! A fixed amount of work for `valgrind --tool=callgrind` (instruction
//! counts are deterministic where timings on a shared machine are not):
//! the `browser_get` head of proto-http's `benches/parse.rs`, parsed
//! `ITER` times by proto-http (fresh server connection, events drained, as
//! the criterion bench does) or by bare httparse.
//!
//! ```text
//! cargo build --release --manifest-path bench/Cargo.toml --example http_head
//! valgrind --tool=callgrind bench/target/release/examples/http_head proto-http 10000
//! valgrind --tool=callgrind bench/target/release/examples/http_head httparse 10000
//! ```
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use proto_http::{Config, Connection, Side};

const BROWSER_GET: &[u8] = b"GET /static/app.js?v=3 HTTP/1.1\r\n\
Host: www.example.com\r\n\
Connection: keep-alive\r\n\
sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n\
sec-ch-ua-mobile: ?0\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
sec-ch-ua-platform: \"Linux\"\r\n\
Accept: */*\r\n\
Sec-Fetch-Site: same-origin\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Dest: script\r\n\
Referer: https://www.example.com/\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Cookie: session=4f6e2b1c9a8d7e6f5a4b3c2d1e0f9a8b; theme=dark; _ga=GA1.2.123456789.1700000000\r\n\
\r\n";

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "proto-http".into());
    let iters: usize = args.next().map_or(10_000, |s| s.parse().unwrap());
    let now = Instant::now();
    let mut config = Config::default();
    config.max_buffer_size(1 << 20);
    let t = Instant::now();
    let mut total = 0usize;
    for _ in 0..iters {
        match mode.as_str() {
            "proto-http" => {
                let mut conn = Connection::new(Side::Server, config.clone()).unwrap();
                conn.handle_input(now, black_box(BROWSER_GET)).unwrap();
                while let Some(e) = conn.poll_event() {
                    black_box(&e);
                    total += 1;
                }
            }
            "new-only" => {
                let conn = Connection::new(Side::Server, config.clone()).unwrap();
                black_box(&conn);
            }
            _ => {
                let mut headers = [httparse::EMPTY_HEADER; 128];
                let mut req = httparse::Request::new(&mut headers);
                if let Ok(httparse::Status::Complete(n)) = req.parse(black_box(BROWSER_GET)) {
                    total += n;
                }
            }
        }
    }
    let per = t.elapsed().as_nanos() as f64 / iters as f64;
    println!("{mode}: {per:.0} ns/iter ({total})");
}
