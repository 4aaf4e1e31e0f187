//! The page Django's `csrf_failure` view renders with `DEBUG = False`
//! (`django/views/templates/csrf_403.html`, Django 6.1, `en-us`), byte for
//! byte: the reason itself is never shown, only two reasons change the text.

/// The 403 body for `reason`.
pub(crate) fn failure_page(reason: &str) -> String {
    // After `main`'s paragraph come two blank lines; the no-Referer help
    // goes after the first, the no-cookie help after the second.
    let referer = if reason == crate::REASON_NO_REFERER {
        NO_REFERER
    } else {
        ""
    };
    let cookie = if reason == crate::REASON_NO_CSRF_COOKIE {
        NO_COOKIE
    } else {
        ""
    };
    format!(
        "{HEAD}  <p>CSRF verification failed. Request aborted.</p>\n\n{referer}\n{cookie}</div>{TAIL}"
    )
}

const HEAD: &str = r####"<!DOCTYPE html>
<html lang="en">
<head>
  <meta http-equiv="content-type" content="text/html; charset=utf-8">
  <meta name="color-scheme" content="light dark" />
  <meta name="robots" content="NONE,NOARCHIVE">
  <title>403 Forbidden</title>
  <style >
    html * { padding:0; margin:0; }
    body * { padding:10px 20px; }
    body * * { padding:0; }
    body { font-family: sans-serif; background:#eee; color:#000; }
    body>div { border-bottom:1px solid #ddd; }
    h1 { font-weight:normal; margin-bottom:.4em; }
    h1 span { font-size:60%; color:#666; font-weight:normal; }
    #info { background:#f6f6f6; }
    #info ul { margin: 0.5em 4em; }
    #info p, #summary p { padding-top:10px; }
    #summary { background: #ffc; }
    #explanation { background:#eee; border-bottom: 0px none; }
  </style>
</head>
<body>
<div id="summary">
  <h1>Forbidden <span>(403)</span></h1>
"####;

const TAIL: &str = r####"

<div id="explanation">
  <p><small>More information is available with DEBUG=True.</small></p>
</div>

</body>
</html>
"####;

const NO_REFERER: &str = r####"  <p>You are seeing this message because this HTTPS site requires a “Referer header” to be sent by your web browser, but none was sent. This header is required for security reasons, to ensure that your browser is not being hijacked by third parties.</p>
  <p>If you have configured your browser to disable “Referer” headers, please re-enable them, at least for this site, or for HTTPS connections, or for “same-origin” requests.</p>
  <p>If you are using the &lt;meta name=&quot;referrer&quot; content=&quot;no-referrer&quot;&gt; tag or including the “Referrer-Policy: no-referrer” header, please remove them. The CSRF protection requires the “Referer” header to do strict referer checking. If you’re concerned about privacy, use alternatives like &lt;a rel=&quot;noreferrer&quot; …&gt; for links to third-party sites.</p>

"####;

const NO_COOKIE: &str = r####"  <p>You are seeing this message because this site requires a CSRF cookie when submitting forms. This cookie is required for security reasons, to ensure that your browser is not being hijacked by third parties.</p>
  <p>If you have configured your browser to disable cookies, please re-enable them, at least for this site, or for “same-origin” requests.</p>

"####;
