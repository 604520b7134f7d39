//! RFC 6455 §1.3 and §4: the opening handshake, both roles.

use proto_core::{OriginPolicy, OriginRejection};
use proto_http::{Request, Response, Version};

use crate::handshake::{
    ClientHandshake, HandshakeError, ResponseError, accept_key, validate_request,
};

/// The request of RFC 6455 §1.2 / §4.1 (with the §1.3 key).
fn rfc_request() -> Request {
    let mut request = Request::new("GET", "/chat");
    request
        .headers_mut()
        .append("Host", "server.example.com")
        .append("Upgrade", "websocket")
        .append("Connection", "Upgrade")
        .append("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .append("Origin", "http://example.com")
        .append("Sec-WebSocket-Protocol", "chat, superchat")
        .append("Sec-WebSocket-Version", "13");
    request
}

fn example_policy() -> OriginPolicy {
    OriginPolicy::allow_list(["http://example.com"]).unwrap()
}

/// `rfc_request` with field `name` replaced by `values` (none: removed).
fn with(name: &str, values: &[&str]) -> Request {
    let mut request = rfc_request();
    request.headers_mut().remove(name);
    for v in values {
        request.headers_mut().append(name, v);
    }
    request
}

fn refused(request: &Request) -> HandshakeError {
    validate_request(request, &example_policy()).unwrap_err()
}

#[test]
fn rfc6455_1_3_accept_vector() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn rfc6455_4_2_2_the_rfc_exchange() {
    let offer = validate_request(&rfc_request(), &example_policy()).unwrap();
    assert_eq!(offer.protocols(), ["chat", "superchat"]);
    assert_eq!(offer.accept_value(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    let response = offer.accept(Some("chat")).unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.version(), Version::Http11);
    let h = response.headers();
    assert!(h.has_token("upgrade", "websocket"));
    assert!(h.has_token("connection", "upgrade"));
    assert_eq!(
        h.get("sec-websocket-accept"),
        Some(&b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="[..])
    );
    assert_eq!(h.get("sec-websocket-protocol"), Some(&b"chat"[..]));
    assert_eq!(h.count("sec-websocket-extensions"), 0);
}

#[test]
fn method_must_be_get_405_with_allow() {
    let mut request = rfc_request();
    let headers = request.headers().clone();
    request = Request::new("POST", "/chat");
    *request.headers_mut() = headers;
    let err = refused(&request);
    assert_eq!(err, HandshakeError::NotGet);
    assert_eq!(err.status(), 405);
    assert_eq!(err.response().headers().get("allow"), Some(&b"GET"[..]));
}

#[test]
fn version_must_be_http_1_1() {
    let mut request = rfc_request();
    request.set_version(Version::Http10);
    assert_eq!(refused(&request), HandshakeError::NotHttp11);
    assert_eq!(refused(&request).status(), 400);
}

#[test]
fn host_is_required_once() {
    assert_eq!(refused(&with("host", &[])), HandshakeError::MissingHost);
    assert_eq!(
        refused(&with("host", &["a", "b"])),
        HandshakeError::MissingHost
    );
}

#[test]
fn upgrade_and_connection_are_token_lists() {
    for ok in [
        &["websocket"][..],
        &["WebSocket"],
        &["foo, websocket"],
        &["foo", "websocket"],
    ] {
        assert!(
            validate_request(&with("upgrade", ok), &example_policy()).is_ok(),
            "{ok:?}"
        );
    }
    for bad in [&[][..], &["websockets"], &["h2c"], &["web socket"]] {
        assert_eq!(
            refused(&with("upgrade", bad)),
            HandshakeError::NotUpgrade,
            "{bad:?}"
        );
    }
    for ok in [&["Upgrade"][..], &["keep-alive, Upgrade"], &["upgrade"]] {
        assert!(validate_request(&with("connection", ok), &example_policy()).is_ok());
    }
    for bad in [&[][..], &["keep-alive"], &["upgraded"]] {
        let err = refused(&with("connection", bad));
        assert_eq!(err, HandshakeError::NotUpgrade);
        assert_eq!(err.status(), 400);
    }
}

#[test]
fn version_other_than_13_is_426_naming_13() {
    for bad in [&[][..], &["8"], &["12"], &["13, 8"], &["13", "13"], &["14"]] {
        let err = refused(&with("sec-websocket-version", bad));
        assert_eq!(err, HandshakeError::UnsupportedVersion, "{bad:?}");
        let response = err.response();
        assert_eq!(response.status(), 426);
        assert_eq!(
            response.headers().get("sec-websocket-version"),
            Some(&b"13"[..])
        );
    }
}

#[test]
fn key_must_be_base64_of_exactly_16_bytes() {
    // 15 and 17 bytes, not base64, unpadded, two keys, none.
    let bad: [&[&str]; 6] = [
        &["AAAAAAAAAAAAAAAAAAAA"],
        &["AAAAAAAAAAAAAAAAAAAAAAA="],
        &["not base64 at all!!!!!=="],
        &["dGhlIHNhbXBsZSBub25jZQ"],
        &["dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=="],
        &[],
    ];
    for values in bad {
        let err = refused(&with("sec-websocket-key", values));
        assert_eq!(err, HandshakeError::InvalidKey, "{values:?}");
        assert_eq!(err.status(), 400);
    }
    assert!(
        validate_request(
            &with("sec-websocket-key", &["AAAAAAAAAAAAAAAAAAAAAA=="]),
            &example_policy()
        )
        .is_ok()
    );
}

#[test]
fn origin_is_checked_against_the_policy_with_403() {
    let err = refused(&with("origin", &["http://evil.example"]));
    assert!(matches!(
        err,
        HandshakeError::Origin(OriginRejection::NotAllowed(_))
    ));
    assert_eq!(err.status(), 403);
    assert!(
        err.to_string().contains("evil.example"),
        "the reason is in the error"
    );
    let err = refused(&with("origin", &["null"]));
    assert_eq!(err, HandshakeError::Origin(OriginRejection::Null));
    let err = refused(&with(
        "origin",
        &["http://example.com", "http://example.com"],
    ));
    assert_eq!(err, HandshakeError::MultipleOrigins);
    assert_eq!(err.status(), 403);
    // Same-host mode compares with Host; no Origin (non-browser) is allowed.
    let policy = OriginPolicy::same_host();
    assert!(validate_request(&with("origin", &["http://server.example.com"]), &policy).is_ok());
    assert!(validate_request(&with("origin", &[]), &policy).is_ok());
    assert!(validate_request(&rfc_request(), &policy).is_err());
}

#[test]
fn subprotocols_are_collected_and_validated() {
    let offer = validate_request(
        &with("sec-websocket-protocol", &["a, b", " c "]),
        &example_policy(),
    )
    .unwrap();
    assert_eq!(offer.protocols(), ["a", "b", "c"]);
    let err = refused(&with("sec-websocket-protocol", &["a b"]));
    assert_eq!(err, HandshakeError::InvalidProtocols);
    let many = vec!["p"; 33].join(",");
    assert_eq!(
        refused(&with("sec-websocket-protocol", &[&many])),
        HandshakeError::InvalidProtocols
    );
    let offer = validate_request(&with("sec-websocket-protocol", &[]), &example_policy()).unwrap();
    assert!(offer.protocols().is_empty());
    assert_eq!(
        offer.accept(Some("chat")),
        Err(HandshakeError::UnofferedProtocol)
    );
    let response = offer.accept(None).unwrap();
    assert_eq!(response.headers().count("sec-websocket-protocol"), 0);
}

#[test]
fn extensions_are_never_accepted_unless_negotiated() {
    let request = with(
        "sec-websocket-extensions",
        &["permessage-deflate; client_max_window_bits", "x-foo"],
    );
    let offer = validate_request(&request, &example_policy()).unwrap();
    assert_eq!(offer.extensions(), ["permessage-deflate", "x-foo"]);
    let response = offer.accept(None).unwrap();
    assert_eq!(response.headers().count("sec-websocket-extensions"), 0);
}

// ---- Client ----

fn answer(client: &ClientHandshake) -> Response {
    let offer = validate_request(
        &client.request("server.example.com", "/chat"),
        &OriginPolicy::any(),
    )
    .unwrap();
    offer
        .accept(offer.protocols().first().map(String::as_str))
        .unwrap()
}

#[test]
fn client_request_carries_every_required_field() {
    let mut client = ClientHandshake::new(*b"the sample nonce");
    client.protocols(["chat", "superchat"]);
    let request = client.request("server.example.com", "/chat");
    assert_eq!((request.method(), request.target()), ("GET", "/chat"));
    assert_eq!(request.version(), Version::Http11);
    let h = request.headers();
    assert_eq!(h.get("host"), Some(&b"server.example.com"[..]));
    assert!(h.has_token("upgrade", "websocket"));
    assert!(h.has_token("connection", "upgrade"));
    assert_eq!(
        h.get("sec-websocket-key"),
        Some(&b"dGhlIHNhbXBsZSBub25jZQ=="[..])
    );
    assert_eq!(h.get("sec-websocket-version"), Some(&b"13"[..]));
    assert_eq!(
        h.get("sec-websocket-protocol"),
        Some(&b"chat, superchat"[..])
    );
}

#[test]
fn client_accepts_a_correct_answer() {
    let mut client = ClientHandshake::new([7; 16]);
    client.protocols(["chat"]);
    assert_eq!(
        client
            .validate_response(&answer(&client))
            .unwrap()
            .protocol(),
        Some("chat")
    );
    let plain = ClientHandshake::new([7; 16]);
    assert_eq!(
        plain.validate_response(&answer(&plain)).unwrap().protocol(),
        None
    );
}

#[test]
fn client_refuses_a_wrong_answer() {
    let mut client = ClientHandshake::new([7; 16]);
    client.protocols(["chat"]);
    let good = answer(&client);

    assert_eq!(
        client.validate_response(&Response::new(200)),
        Err(ResponseError::Status(200))
    );

    let mut r = good.clone();
    r.headers_mut().remove("upgrade");
    assert_eq!(client.validate_response(&r), Err(ResponseError::NotUpgrade));

    let mut r = good.clone();
    r.headers_mut().insert("connection", "close");
    assert_eq!(client.validate_response(&r), Err(ResponseError::NotUpgrade));

    let mut r = good.clone();
    r.headers_mut()
        .insert("sec-websocket-accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_eq!(
        client.validate_response(&r),
        Err(ResponseError::InvalidAccept)
    );

    let mut r = good.clone();
    r.headers_mut().remove("sec-websocket-accept");
    assert_eq!(
        client.validate_response(&r),
        Err(ResponseError::InvalidAccept)
    );

    let mut r = good.clone();
    r.headers_mut()
        .insert("sec-websocket-protocol", "superchat");
    assert_eq!(
        client.validate_response(&r),
        Err(ResponseError::UnofferedProtocol)
    );

    let mut r = good.clone();
    r.headers_mut().append("sec-websocket-protocol", "chat");
    assert_eq!(
        client.validate_response(&r),
        Err(ResponseError::UnofferedProtocol)
    );

    let plain = ClientHandshake::new([7; 16]);
    let mut r = answer(&plain);
    r.headers_mut().append("sec-websocket-protocol", "chat");
    assert_eq!(
        plain.validate_response(&r),
        Err(ResponseError::UnofferedProtocol)
    );

    let mut r = good;
    r.headers_mut()
        .append("sec-websocket-extensions", "permessage-deflate");
    assert_eq!(
        client.validate_response(&r),
        Err(ResponseError::UnrequestedExtension)
    );
}
