//! `gzip`, Django's `GZipMiddleware`: in front of the probe view, whose
//! `ok` body is `view=v ... query=<the query> attrs=`, so the query sets
//! the body's length and content. Probe middleware inside it (`inner`)
//! set the headers the view does not.

use std::io::{Read, Write};

use flate2::read::GzDecoder;
use flate2::{Compression, GzBuilder};
use shallot_tests::{Outcome, pipeline, request, run};

/// `gzip` (behind an `outer` probe with that config, when given), then a
/// probe per `inner` entry, its `process_response` action (`header:N:V`,
/// `status:NNN`), then the probe view at `/v/` with `action`.
fn app(outer: Option<&str>, inner: &[&str], action: &str) -> String {
    configured("", outer, inner, action)
}

/// `app` with `gzip_config` as the gzip entry's `config` table.
fn configured(gzip_config: &str, outer: Option<&str>, inner: &[&str], action: &str) -> String {
    let mut toml = String::new();
    if let Some(config) = outer {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"outer\"\ncomponent = \"{{probe}}\"\nconfig = {{ {config} }}\n"
        ));
    }
    toml.push_str(&format!(
        "[[middleware]]\nname = \"gzip\"\ncomponent = \"{{gzip}}\"\nconfig = {{ {gzip_config} }}\n"
    ));
    for (i, hook) in inner.iter().enumerate() {
        toml.push_str(&format!(
            "[[middleware]]\nname = \"h{i}\"\ncomponent = \"{{probe}}\"\n\
             config = {{ process_response = '{hook}' }}\n"
        ));
    }
    toml.push_str(&format!(
        "[views.v]\ncomponent = \"{{probe-view}}\"\nconfig = {{ action = \"{action}\" }}\n\
         [[routes]]\npath = \"v/\"\nview = \"v\"\n"
    ));
    toml
}

async fn send(toml: &str, query: &str, accept_encoding: Option<&str>) -> Outcome {
    let headers: Vec<(&str, &str)> = accept_encoding
        .map(|ae| ("Accept-Encoding", ae))
        .into_iter()
        .collect();
    let uri = format!("/v/?{query}");
    run(&pipeline(toml).await, request("GET", &uri, &headers)).await
}

/// The view's `ok` body for `query`, as the client gets it uncompressed.
async fn plain_body(query: &str) -> Vec<u8> {
    let out = send(&app(None, &[], "ok"), query, None).await;
    assert_eq!(out.header("content-encoding"), None);
    out.response.body().to_vec()
}

/// A query that makes the `ok` body exactly `len` bytes long (of `x`s,
/// which compress well).
async fn query_for_length(len: usize) -> String {
    let frame = plain_body("").await.len();
    "x".repeat(len - frame)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a valid gzip stream, its CRC32 and ISIZE checked");
    out
}

/// The length of Django's padding: the gzip FNAME field (before its NUL)
/// after checking that the rest of the 10-byte header is `compress_string`'s.
fn padding(gz: &[u8]) -> usize {
    assert_eq!(
        gz[..10],
        [0x1f, 0x8b, 8, 0x08, 0, 0, 0, 0, 0, 0xff],
        "magic, deflate, FLG = FNAME, mtime 0, XFL 0, OS 255"
    );
    let name_len = gz[10..].iter().position(|&b| b == 0).expect("FNAME ends");
    assert!(
        gz[10..10 + name_len].iter().all(|&b| b == b'a'),
        "the name is all 'a': {:?}",
        &gz[10..10 + name_len]
    );
    name_len
}

/// The guest's job: a compressible body of 200 bytes or more, for a client
/// taking gzip, comes back gzipped with Django's header and headers, and
/// layers further out see the compressed body.
#[tokio::test]
pub(crate) async fn gzip() {
    let query = query_for_length(600).await;
    let plain = plain_body(&query).await;
    let toml = app(Some("process_response = \"content\""), &[], "ok");
    let out = send(&toml, &query, Some("gzip, deflate, br")).await;
    assert_eq!(out.response.status(), 200);
    assert_eq!(out.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(out.header("vary").as_deref(), Some("Accept-Encoding"));
    assert_eq!(
        out.header("content-type").as_deref(),
        Some("text/plain; charset=utf-8"),
        "the content type stays"
    );
    let gz = out.response.body();
    assert!(padding(gz) < 100);
    assert_eq!(gunzip(gz), plain);
    assert!(gz.len() < plain.len());
    assert_eq!(
        out.header("x-content-length"),
        Some(gz.len().to_string()),
        "the outer layer reads the compressed body"
    );
}

/// Django's threshold: under 200 bytes the body is not worth compressing,
/// and the response is left exactly as it was: no `Vary` either.
#[tokio::test]
async fn bodies_under_200_bytes_are_left_alone() {
    let toml = app(None, &[], "ok");
    let short = send(&toml, &query_for_length(199).await, Some("gzip")).await;
    assert_eq!(short.response.body().len(), 199);
    assert_eq!(short.header("content-encoding"), None);
    assert_eq!(short.header("vary"), None);
    let long = send(&toml, &query_for_length(200).await, Some("gzip")).await;
    assert_eq!(long.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gunzip(long.response.body()).len(), 200);
}

/// An encoding already set (a view that compressed its own body) means
/// hands off, `Vary` included.
#[tokio::test]
async fn an_existing_content_encoding_is_left_alone() {
    let query = query_for_length(600).await;
    let toml = app(None, &["header:Content-Encoding:br"], "ok");
    let out = send(&toml, &query, Some("gzip")).await;
    assert_eq!(out.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(out.header("vary"), None);
    assert_eq!(out.response.body().as_ref(), plain_body(&query).await);
}

/// `Vary: Accept-Encoding` is patched in before the client is asked, so a
/// client without gzip gets it too; Django's `patch_vary_headers` keeps
/// what is there, adds nothing present case-insensitively, and `*` wins.
#[tokio::test]
async fn vary_is_patched_whether_or_not_the_client_takes_gzip() {
    let query = query_for_length(300).await;
    let out = send(&app(None, &[], "ok"), &query, None).await;
    assert_eq!(out.header("vary").as_deref(), Some("Accept-Encoding"));
    assert_eq!(out.header("content-encoding"), None);
    assert_eq!(out.response.body().as_ref(), plain_body(&query).await);

    for (vary, expected) in [
        ("Cookie", "Cookie, Accept-Encoding"),
        ("Cookie,,  Origin ", "Cookie, Origin, Accept-Encoding"),
        ("accept-encoding", "accept-encoding"),
        ("Cookie, *", "*"),
    ] {
        let out = send(
            &app(None, &[format!("header:Vary:{vary}").as_str()], "ok"),
            &query,
            Some("gzip"),
        )
        .await;
        assert_eq!(out.header("vary").as_deref(), Some(expected), "{vary}");
        assert_eq!(out.header("content-encoding").as_deref(), Some("gzip"));
    }
}

/// `re.search(r"\bgzip\b", ...)`: no q-value parsing (`gzip;q=0` still
/// compresses, as in Django), case-sensitive, a whole word.
#[tokio::test]
async fn accept_encoding_is_searched_for_the_word_gzip() {
    let query = query_for_length(300).await;
    let toml = app(None, &[], "ok");
    for (accept, gzipped) in [
        ("gzip", true),
        ("deflate, gzip;q=0.5", true),
        ("gzip;q=0", true),
        ("x-gzip", true),
        ("identity", false),
        ("GZIP", false),
        ("gzipped", false),
        ("xgzip", false),
        ("gzip_x", false),
        ("", false),
    ] {
        let out = send(&toml, &query, Some(accept)).await;
        let encoding = out.header("content-encoding");
        assert_eq!(encoding.is_some(), gzipped, "{accept:?}: {encoding:?}");
        assert_eq!(out.header("vary").as_deref(), Some("Accept-Encoding"));
    }
}

/// A body compression does not shrink is sent as it was (with `Vary`,
/// already added): Django keeps the original unless the gzip is strictly
/// shorter.
#[tokio::test]
async fn a_body_compression_does_not_shrink_is_sent_as_it_was() {
    // 180 pseudo-random URL characters: deflate cannot beat 8 bits each by
    // enough to pay for the gzip header and trailer.
    let alphabet =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$'()*+,;=:@/?";
    let mut state: u32 = 12_345;
    let query: String = (0..180)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            alphabet[(state >> 16) as usize % alphabet.len()] as char
        })
        .collect();
    let plain = plain_body(&query).await;
    assert!(plain.len() >= 200, "long enough to be tried");
    // The shortest the guest can make it: the same deflate, an empty name.
    let mut shortest = GzBuilder::new()
        .filename("")
        .write(Vec::new(), Compression::new(6));
    shortest.write_all(&plain).unwrap();
    let shortest = shortest.finish().unwrap();
    assert!(
        shortest.len() >= plain.len(),
        "the test body must not compress: {} of {}",
        shortest.len(),
        plain.len()
    );
    let out = send(&app(None, &[], "ok"), &query, Some("gzip")).await;
    assert_eq!(out.header("content-encoding"), None);
    assert_eq!(out.header("vary").as_deref(), Some("Accept-Encoding"));
    assert_eq!(out.response.body().as_ref(), plain);
}

/// RFC 9110 8.8.1: a strong `ETag` is made weak on the compressed body; a
/// weak one, or a value that is not a quoted tag, stays.
#[tokio::test]
async fn a_strong_etag_becomes_weak() {
    let query = query_for_length(300).await;
    for (etag, expected) in [
        ("\"abc\"", "W/\"abc\""),
        ("W/\"abc\"", "W/\"abc\""),
        ("abc", "abc"),
    ] {
        let out = send(
            &app(None, &[format!("header:ETag:{etag}").as_str()], "ok"),
            &query,
            Some("gzip"),
        )
        .await;
        assert_eq!(out.header("etag").as_deref(), Some(expected), "{etag}");
    }
    // Not compressed, not weakened.
    let out = send(&app(None, &["header:ETag:\"abc\""], "ok"), &query, None).await;
    assert_eq!(out.header("etag").as_deref(), Some("\"abc\""));
}

/// BREACH: `compress_string` pads with `randbelow(100)` bytes of `a` as the
/// FNAME, fresh for every response, so the length of one response does not
/// tell how well a guessed secret compressed.
#[tokio::test]
async fn the_padding_is_random_and_under_100_bytes() {
    let query = query_for_length(400).await;
    let plain = plain_body(&query).await;
    let toml = app(None, &[], "ok");
    let mut lengths = Vec::new();
    for _ in 0..20 {
        let out = send(&toml, &query, Some("gzip")).await;
        let gz = out.response.body();
        lengths.push(padding(gz));
        assert_eq!(gunzip(gz), plain);
    }
    assert!(lengths.iter().all(|&n| n < 100), "{lengths:?}");
    // Twenty equal draws of 100 would happen once in 10^38 runs.
    assert!(
        lengths.iter().any(|&n| n != lengths[0]),
        "the padding changes: {lengths:?}"
    );
}

/// Django checks no status, content type or `Cache-Control: no-transform`.
#[tokio::test]
async fn status_and_cache_control_do_not_matter() {
    let query = query_for_length(300).await;
    let inner = [
        "header:Cache-Control:no-transform",
        "header:Content-Type:image/png",
        "status:404",
    ];
    let out = send(&app(None, &inner, "ok"), &query, Some("gzip")).await;
    assert_eq!(out.response.status(), 404);
    assert_eq!(out.header("content-encoding").as_deref(), Some("gzip"));
}

/// Deviation: a streaming body never passes through middleware here, so it
/// is not compressed. Django's steps before the compression still run: a
/// streaming response of any length gets `Vary: Accept-Encoding` unless it
/// has a `Content-Encoding`.
#[tokio::test]
async fn a_streaming_response_gets_vary_and_keeps_its_body() {
    for action in ["stream:3:100", "stream:1:1"] {
        let out = send(&app(None, &[], action), "", Some("gzip")).await;
        assert_eq!(out.response.status(), 200, "{:#?}", out.log);
        assert_eq!(out.header("vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(out.header("content-encoding"), None);
        let expected: Vec<u8> = match action {
            "stream:3:100" => [[0u8; 100], [1; 100], [2; 100]].concat(),
            _ => vec![0],
        };
        assert_eq!(out.response.body().as_ref(), expected);
    }
    let toml = app(None, &["header:Content-Encoding:br"], "stream:3:100");
    let out = send(&toml, "", Some("gzip")).await;
    assert_eq!(out.header("vary"), None);
}

/// `max_random_bytes` is Django's class attribute (a subclass may change
/// it): 1 always gives an empty name (FNAME still set), 0 turns the padding
/// off and the header is plain `gzip.compress`'s, FLG 0.
#[tokio::test]
async fn max_random_bytes_sets_the_padding() {
    let query = query_for_length(300).await;
    let plain = plain_body(&query).await;
    let toml = configured("max_random_bytes = 1", None, &[], "ok");
    let out = send(&toml, &query, Some("gzip")).await;
    assert_eq!(padding(out.response.body()), 0);
    assert_eq!(gunzip(out.response.body()), plain);

    let toml = configured("max_random_bytes = 0", None, &[], "ok");
    let out = send(&toml, &query, Some("gzip")).await;
    let gz = out.response.body();
    assert_eq!(gz[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    assert_eq!(gunzip(gz), plain);

    let toml = configured("max_random_bytes = \"many\"", None, &[], "ok");
    let out = send(&toml, &query, Some("gzip")).await;
    assert_eq!(out.response.status(), 500, "a bad value fails the layer");
}
