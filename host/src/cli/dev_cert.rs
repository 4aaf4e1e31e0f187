//! `shallot dev-cert`: a self-signed certificate and key for serving HTTPS
//! in development (browsers will warn: nothing signed it).

use std::path::Path;

use anyhow::Context;

/// Writes `cert.pem` and `key.pem` into `dir` for `hosts`.
pub(crate) fn run(dir: &Path, hosts: &[String]) -> anyhow::Result<()> {
    let (cert, key) =
        shallot::server::dev_certificate(hosts).context("cannot generate a certificate")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert)
        .with_context(|| format!("cannot write {}", cert_path.display()))?;
    write_private(&key_path, key.as_bytes())?;
    println!(
        "wrote {} and {} for {}\nadd to shallot.toml:\n\n[server.tls]\ncert = \"{}\"\nkey = \"{}\"",
        cert_path.display(),
        key_path.display(),
        hosts.join(", "),
        cert_path.display(),
        key_path.display()
    );
    Ok(())
}

/// The key readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}
