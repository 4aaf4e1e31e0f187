//! A rendering's output, with a ceiling: writing past it fails the
//! rendering instead of growing without bound.

/// Bytes written so far, and whether the ceiling was hit.
pub(super) struct Capped {
    pub(super) buf: Vec<u8>,
    max: usize,
    pub(super) over: bool,
}

impl Capped {
    pub(super) fn new(max: usize) -> Self {
        Capped {
            buf: Vec::new(),
            max,
            over: false,
        }
    }
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.max {
            self.over = true;
            return Err(std::io::Error::other("template output limit"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
