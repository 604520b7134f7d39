//! RFC 9112 §5 and RFC 9110 §5.5: field lines.
use crate::*;
use proto_http::Violation;

#[test]
fn obs_fold_is_400() {
    rejects(
        &get_with("X: a\r\n b\r\n"),
        Error::Malformed(Violation::ObsFold),
    );
    rejects(
        &get_with("X: a\r\n\tb\r\n"),
        Error::Malformed(Violation::ObsFold),
    );
}

#[test]
fn whitespace_before_the_colon_is_400() {
    rejects(
        &get_with("X : a\r\n"),
        Error::Malformed(Violation::InvalidFieldName),
    );
    rejects(
        &get_with("X\t: a\r\n"),
        Error::Malformed(Violation::InvalidFieldName),
    );
}

#[test]
fn empty_field_name_is_400() {
    rejects(
        &get_with(": a\r\n"),
        Error::Malformed(Violation::InvalidFieldName),
    );
}

#[test]
fn non_token_field_name_is_400() {
    rejects(
        &get_with("X(y): a\r\n"),
        Error::Malformed(Violation::InvalidFieldName),
    );
    rejects(
        &get_with("X\u{e9}: a\r\n"),
        Error::Malformed(Violation::InvalidFieldName),
    );
    rejects(
        &get_with("no-colon\r\n"),
        Error::Malformed(Violation::InvalidFieldName),
    );
}

#[test]
fn nul_in_a_value_is_400() {
    rejects(
        &get_with("X: a\0b\r\n"),
        Error::Malformed(Violation::ControlCharacter),
    );
}

#[test]
fn other_ctl_in_a_value_is_400() {
    for ctl in [0x01u8, 0x0b, 0x0c, 0x1f, 0x7f] {
        let mut req = get_with("X: a?b\r\n");
        let at = req.iter().position(|&b| b == b'?').unwrap();
        req[at] = ctl;
        rejects(&req, Error::Malformed(Violation::ControlCharacter));
    }
}

#[test]
fn htab_and_obs_text_in_a_value_are_accepted() {
    let mut c = server();
    c.handle_input(
        t0(),
        "GET / HTTP/1.1\r\nHost: a\r\nX: \ta\tb caf\u{e9} \r\n\r\n".as_bytes(),
    )
    .unwrap();
    match c.poll_event() {
        Some(Event::Request(r)) => {
            assert_eq!(r.headers().get("x"), Some("a\tb caf\u{e9}".as_bytes()));
        }
        other => panic!("{other:?}"),
    }
}
