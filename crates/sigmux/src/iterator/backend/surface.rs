//! The public surface every adapter's `SignalsInfo<E>` shares, written once:
//! `__adapter_surface!`, over the Unix `AsyncCore` or the Windows `ThreadDelivery` (or, for
//! sigmux-mio, a `SignalDelivery`).

/// The public surface every adapter's `SignalsInfo<E>` shares, written once. Not part of the
/// API: for sigmux's adapter crates (it may change with any sigmux release).
///
/// Expanded inside `impl<E: Exfiltrator> SignalsInfo<E>` of a tuple struct
/// `SignalsInfo<E>(Inner)`, where `Inner` (an `AsyncCore` on Unix, a `ThreadDelivery` on
/// Windows, or a `SignalDelivery<OwnedFd, E>`) has `open` and `handle`, and `Handle` is in
/// scope:
///
/// * `controls Inner` — `new`, `with_exfiltrator`, `handle`, `add_signal`, `remove_signal`,
///   `is_closed`;
/// * `stream "crate"` — `poll_recv`, `recv`, `take_error` over an `AsyncCore` or a
///   `ThreadDelivery` (`poll_recv`, `take_error`, `is_terminated`);
/// * `futures_core name #[attr]...` (outside the `impl`) — `Stream` and `FusedStream` of
///   the futures-core crate of that name, each impl with the attributes given;
/// * `async_stream "crate", ReadEnd, #[doc]...` (at an async adapter's crate root) — the
///   whole stream type: `SignalsInfo<E>` over an `AsyncCore<ReadEnd, E>` on Unix (`ReadEnd`
///   being the adapter's [`ReactorPipe`](crate::iterator::backend)) and a `ThreadDelivery`
///   on Windows, with the `controls` and `stream` surfaces and the doc lines given added to
///   its docs, the `Signals` alias, and the re-exports of `Handle`, `consts` and
///   `exfiltrator`.
#[doc(hidden)]
#[macro_export]
macro_rules! __adapter_surface {
    (controls $inner:ty) => {
        /// Creates an instance reporting `signals`, with a default-constructed exfiltrator.
        ///
        /// Every signal is registered with the operating system before this returns, so none
        /// that arrives before the first poll is lost. The errors are those of
        /// [`Handle::add_signal`]; on error nothing stays registered.
        pub fn new<I, S>(signals: I) -> ::std::result::Result<Self, ::std::io::Error>
        where
            I: ::std::iter::IntoIterator<Item = S>,
            S: ::std::borrow::Borrow<::std::os::raw::c_int>,
            E: ::std::default::Default,
        {
            Self::with_exfiltrator(signals, E::default())
        }

        /// Creates an instance reporting `signals`, taking information out of the signal
        /// handler with `exfiltrator`.
        ///
        /// See [`new`](Self::new).
        pub fn with_exfiltrator<I, S>(
            signals: I,
            exfiltrator: E,
        ) -> ::std::result::Result<Self, ::std::io::Error>
        where
            I: ::std::iter::IntoIterator<Item = S>,
            S: ::std::borrow::Borrow<::std::os::raw::c_int>,
        {
            ::std::result::Result::Ok(Self(<$inner>::open(signals, exfiltrator)?))
        }

        /// A cloneable handle to add or remove signals from anywhere, or to close this
        /// instance (a stream then ends; a mio source becomes readable and
        /// [`is_closed`](Self::is_closed)).
        pub fn handle(&self) -> Handle {
            self.0.handle()
        }

        /// Starts reporting `signal` too; a signal already reported is left as it is. The
        /// same as [`Handle::add_signal`], whose errors it returns.
        pub fn add_signal(&self, signal: ::std::os::raw::c_int) -> ::std::io::Result<()> {
            self.0.handle().add_signal(signal)
        }

        /// Stops reporting `signal`; returns whether it was reported. Takes effect at once:
        /// arrivals not yet taken are dropped too. See [`Handle::remove_signal`]. An addition
        /// to the signal-hook interface.
        pub fn remove_signal(&self, signal: ::std::os::raw::c_int) -> bool {
            self.0.handle().remove_signal(signal)
        }

        /// Whether [`Handle::close`] was called on a handle of this instance. An addition to
        /// the signal-hook interface.
        pub fn is_closed(&self) -> bool {
            self.0.handle().is_closed()
        }
    };
    (stream $adapter:literal) => {
        /// Polls for the next signal: `Ready(Some(_))` with one, `Ready(None)` once the stream
        /// has ended, `Pending` (with `cx` registered for a wake-up) otherwise.
        ///
        #[doc = concat!("What the `Stream` implementation calls. An addition to the `", $adapter, "` interface.")]
        pub fn poll_recv(
            &mut self,
            cx: &mut ::std::task::Context<'_>,
        ) -> ::std::task::Poll<::std::option::Option<E::Output>> {
            self.0.poll_recv(cx)
        }

        /// Waits for the next signal; `None` once the stream has ended (after
        /// [`Handle::close`] or an error, see [`take_error`](Self::take_error)).
        ///
        /// Cancel-safe: dropping the future loses no signal.
        #[doc = concat!("An addition to the `", $adapter, "` interface.")]
        pub async fn recv(&mut self) -> ::std::option::Option<E::Output> {
            ::std::future::poll_fn(|cx| self.0.poll_recv(cx)).await
        }

        /// The error that ended the stream, if one did (taken out, so a second call returns
        /// `None`). A stream that ended with an error has unregistered its signals.
        ///
        #[doc = concat!("Where `", $adapter, "` panics on such an error, this stream ends and keeps the error here. An addition to its interface.")]
        pub fn take_error(&mut self) -> ::std::option::Option<::std::io::Error> {
            self.0.take_error()
        }
    };
    (async_stream $adapter:literal, $read_end:ty, $(#[$doc:meta])*) => {
        pub use $crate::consts;
        pub use $crate::iterator::backend::Handle;
        pub use $crate::iterator::exfiltrator;

        /// The stream's core: the reactor's on Unix, the helper thread's on Windows.
        #[cfg(unix)]
        type Core<E> = $crate::iterator::backend::AsyncCore<$read_end, E>;
        /// The stream's core: the reactor's on Unix, the helper thread's on Windows.
        #[cfg(windows)]
        type Core<E> = $crate::iterator::backend::ThreadDelivery<E>;

        /// An asynchronous stream of arriving signals, with what the exfiltrator `E` extracts
        /// from each.
        ///
        /// Signals of one kind that arrive in quick succession may be merged into one item;
        /// the items of one batch come in ascending signal-number order. Dropping the value
        /// unregisters its signals.
        ///
        /// On Windows the console events come as signals too (Ctrl-C as `SIGINT`, Ctrl-Break
        /// as `SIGBREAK`, a closing console as `sigmux::consts::SIGCLOSE`, …: see
        /// `sigmux::iterator`'s Windows section). No reactor is involved there: a helper
        /// thread per stream (sigmux's `iterator::backend::ThreadDelivery`, which says what it
        /// costs) waits on the blocking iterator and wakes the task. So the stream also works
        /// outside a runtime, [`take_error`](Self::take_error) is always `None`, and there is
        /// no `fork`. A closing console event keeps the process alive until the stream is
        /// dropped or [closed](Handle::close) (or Windows' own deadline passes).
        $(#[$doc])*
        #[derive(Debug)]
        pub struct SignalsInfo<
            E: $crate::iterator::exfiltrator::Exfiltrator = $crate::iterator::exfiltrator::SignalOnly,
        >(Core<E>);

        /// [`SignalsInfo`] that yields just the signal numbers; what most programs want.
        pub type Signals = SignalsInfo<$crate::iterator::exfiltrator::SignalOnly>;

        impl<E: $crate::iterator::exfiltrator::Exfiltrator> SignalsInfo<E> {
            $crate::__adapter_surface!(controls Core<E>);
            $crate::__adapter_surface!(stream $adapter);
        }
    };
    (futures_core $fc:ident $(#[$attr:meta])*) => {
        $(#[$attr])*
        impl<E: $crate::iterator::exfiltrator::Exfiltrator> $fc::Stream for SignalsInfo<E> {
            type Item = E::Output;

            fn poll_next(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::option::Option<E::Output>> {
                self.get_mut().0.poll_recv(cx)
            }
        }

        $(#[$attr])*
        impl<E: $crate::iterator::exfiltrator::Exfiltrator> $fc::FusedStream for SignalsInfo<E> {
            fn is_terminated(&self) -> bool {
                self.0.is_terminated()
            }
        }
    };
}
