//! Windows: the stream over sigmux's [`ThreadDelivery`] (a helper thread blocks on the
//! iterator's semaphore and wakes the task). See the crate docs' Portability section.

use std::borrow::Borrow;
use std::fmt;
use std::future::poll_fn;
use std::io::Error;
use std::task::{Context, Poll};

use libc::c_int;
use sigmux::iterator::backend::{Handle, ThreadDelivery};
use sigmux::iterator::exfiltrator::{Exfiltrator, SignalOnly};

/// An asynchronous stream of arriving signals, with what the exfiltrator `E` extracts from
/// each.
///
/// Signals of one kind that arrive in quick succession may be merged into one item; the items
/// of one batch come in ascending signal-number order. Dropping the value unregisters its
/// signals. On Windows the console events come as signals too (Ctrl-C as `SIGINT`, a closing
/// console as `SIGCLOSE`, …: see `sigmux::iterator`'s Windows section).
pub struct SignalsInfo<E: Exfiltrator = SignalOnly> {
    inner: ThreadDelivery<E>,
    handle: Handle,
    /// Set once the stream has yielded `None`; it never yields anything again.
    ended: bool,
}

/// [`SignalsInfo`] that yields just the signal numbers; what most programs want.
pub type Signals = SignalsInfo<SignalOnly>;

impl<E: Exfiltrator> SignalsInfo<E>
where
    E::Output: Send,
{
    /// Creates a stream of `signals`, with a default-constructed exfiltrator.
    ///
    /// Every signal is registered before this returns. The errors are those of
    /// [`Handle::add_signal`], or of starting the helper thread; on error nothing stays
    /// registered. No runtime or reactor is needed to create or poll it.
    pub fn new<I, S>(signals: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
        E: Default,
    {
        Self::with_exfiltrator(signals, E::default())
    }

    /// Creates a stream of `signals`, taking information out of the signal handler with
    /// `exfiltrator`. See [`new`](SignalsInfo::new).
    pub fn with_exfiltrator<I, S>(signals: I, exfiltrator: E) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: Borrow<c_int>,
    {
        let signals = sigmux::iterator::SignalsInfo::with_exfiltrator(signals, exfiltrator)?;
        let inner = ThreadDelivery::new(signals)?;
        let handle = inner.handle();
        Ok(Self {
            inner,
            handle,
            ended: false,
        })
    }

    /// A cloneable handle to add signals to this stream from anywhere, or to close it.
    ///
    /// After [`Handle::close`] the stream yields `None` (waking a task waiting on it).
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Polls for the next signal: `Ready(Some(_))` with one, `Ready(None)` once the stream has
    /// ended, `Pending` (with `cx` registered for a wake-up) otherwise.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let next = self.inner.poll_next(cx);
        if let Poll::Ready(None) = next {
            self.ended = true;
        }
        next
    }

    /// Waits for the next signal; `None` once the stream has ended (after
    /// [`Handle::close`]).
    ///
    /// Cancel-safe: dropping the future loses no signal.
    pub async fn recv(&mut self) -> Option<E::Output> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The I/O error that ended the stream: always `None` on Windows, where no reactor is
    /// involved (kept so code written for Unix compiles unchanged).
    pub fn take_error(&mut self) -> Option<Error> {
        None
    }
}

impl<E: Exfiltrator> fmt::Debug for SignalsInfo<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalsInfo")
            .field("handle", &self.handle)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl<E: Exfiltrator> futures_core::Stream for SignalsInfo<E>
where
    E::Output: Send,
{
    type Item = E::Output;

    fn poll_next(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<E::Output>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<E: Exfiltrator> futures_core::stream::FusedStream for SignalsInfo<E>
where
    E::Output: Send,
{
    fn is_terminated(&self) -> bool {
        self.ended
    }
}
