//! How the command prints an error it stops on. Many of Shallot's errors
//! already spell out their cause (`shallot::LoadError` says why a component
//! was refused and also keeps that reason as its `source()`), so printing
//! the whole chain, as anyhow does, would say the same thing twice. A cause
//! is printed only when its text adds something.

/// `error: {error}`, then `  caused by: {cause}` for each cause in the chain
/// whose text is not already part of what is printed above it.
pub(crate) fn render(error: &anyhow::Error) -> String {
    let mut out = format!("error: {error}");
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str("\n  caused by: ");
            out.push_str(&text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use anyhow::Context;

    use super::render;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot load x.wasm: {0}")]
        struct Load(#[source] std::io::Error);
        let io = std::io::Error::other("no such file");
        let err = anyhow::Error::new(Load(io)).context("reload failed");
        assert_eq!(
            render(&err),
            "error: reload failed\n  caused by: cannot load x.wasm: no such file"
        );
    }

    #[test]
    fn a_cause_with_new_text_is_printed() {
        let err = Err::<(), _>(std::io::Error::other("permission denied"))
            .context("cannot listen on 127.0.0.1:80")
            .unwrap_err();
        assert_eq!(
            render(&err),
            "error: cannot listen on 127.0.0.1:80\n  caused by: permission denied"
        );
    }
}
