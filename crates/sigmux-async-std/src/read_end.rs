//! Unix: the read end of the self-pipe in async-io's reactor, the [`ReactorPipe`] under the
//! stream.

use std::fs::File;
use std::io::{Error, Read};
use std::os::unix::io::{AsRawFd, OwnedFd, RawFd};
use std::task::{Context, Poll};

use async_io::Async;
use sigmux::iterator::backend::ReactorPipe;

/// The read end of the self-pipe, registered with async-io's reactor when created.
///
/// `None` only once abandoned in a forked child. (`File` is only the read end's owner.)
#[derive(Debug)]
pub(crate) struct ReadEnd(Option<Async<File>>);

impl ReactorPipe for ReadEnd {
    const NAME: &'static str = "sigmux-async-std";
    const IN_CHILD: &'static str = "async-io's reactor cannot be used there either (its epoll \
                                    instance is shared with the parent): use \
                                    sigmux::iterator::Signals in the child";

    fn new(read: OwnedFd) -> Result<Self, Error> {
        Ok(ReadEnd(Some(Async::new(File::from(read))?)))
    }

    fn try_read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        // `None` only after `abandon` (in `Drop`, in a forked child): never read again.
        self.0
            .as_ref()
            .map_or(Ok(0), |read| read.get_ref().read(buf))
    }

    /// async-io reports readiness seen in a reactor tick after the interest was registered,
    /// which is why the backend reads first.
    fn poll_readable(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match &self.0 {
            Some(read) => read.poll_readable(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn abandon(&mut self) {
        std::mem::forget(self.0.take());
    }
}

impl AsRawFd for ReadEnd {
    fn as_raw_fd(&self) -> RawFd {
        // -1 once abandoned: the backend's drain then fails with EBADF and stops.
        self.0.as_ref().map_or(-1, AsRawFd::as_raw_fd)
    }
}
