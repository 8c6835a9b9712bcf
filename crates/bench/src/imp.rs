//! The implementations under comparison: names, roles and comparison groups.

/// What a row is compared against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The physical floor every row's ratio is taken to.
    Floor,
    /// A hand-written mechanism shown for reference (no library).
    Reference,
    /// A peer library.
    Peer,
    /// One of ours.
    Sigmux,
}

/// One implementation of some signal-handling pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Imp {
    /// A bare `sigaction` handler incrementing an atomic.
    Raw,
    SigmuxRegistry,
    HookRegistry,
    SigmuxFlag,
    HookFlag,
    /// Thread park/unpark (a futex), no signal at all.
    Futex,
    /// `signalfd` with the signal blocked in every thread.
    Signalfd,
    /// A handler writing one byte to a pipe, a thread blocked in `read`.
    RawPipe,
    /// A handler bumping a counter and waking a futex, a thread blocked in `FUTEX_WAIT`.
    RawFutex,
    SigmuxIter,
    HookIter,
    TokioSignal,
    HookTokio,
    SigmuxTokio,
    AsyncSignal,
    HookAsyncStd,
    SigmuxAsyncStd,
}

impl Imp {
    pub(crate) const ALL: [Imp; 17] = [
        Imp::Raw,
        Imp::SigmuxRegistry,
        Imp::HookRegistry,
        Imp::SigmuxFlag,
        Imp::HookFlag,
        Imp::Futex,
        Imp::Signalfd,
        Imp::RawPipe,
        Imp::RawFutex,
        Imp::HookIter,
        Imp::SigmuxIter,
        Imp::TokioSignal,
        Imp::HookTokio,
        Imp::SigmuxTokio,
        Imp::AsyncSignal,
        Imp::HookAsyncStd,
        Imp::SigmuxAsyncStd,
    ];

    /// Implementations that wait for signals (the floor and references included), in
    /// table order: peers before sigmux within each kind.
    pub(crate) fn listeners() -> impl Iterator<Item = Imp> {
        Imp::ALL.into_iter().skip_while(|i| *i != Imp::Futex)
    }

    /// Short stable name, used on the command line of children and in the JSON.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Imp::Raw => "raw-sigaction",
            Imp::SigmuxRegistry => "sigmux-registry",
            Imp::HookRegistry => "signal-hook-registry",
            Imp::SigmuxFlag => "sigmux::flag",
            Imp::HookFlag => "signal-hook::flag",
            Imp::Futex => "futex-unpark",
            Imp::Signalfd => "signalfd",
            Imp::RawPipe => "raw-self-pipe",
            Imp::RawFutex => "raw-futex-handler",
            Imp::SigmuxIter => "sigmux::iterator",
            Imp::HookIter => "signal-hook::iterator",
            Imp::TokioSignal => "tokio::signal",
            Imp::HookTokio => "signal-hook-tokio",
            Imp::SigmuxTokio => "sigmux-tokio",
            Imp::AsyncSignal => "async-signal",
            Imp::HookAsyncStd => "signal-hook-async-std",
            Imp::SigmuxAsyncStd => "sigmux-async-std",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Imp> {
        Imp::ALL.into_iter().find(|i| i.name() == name)
    }

    pub(crate) fn role(self) -> Role {
        match self {
            Imp::Raw | Imp::Futex => Role::Floor,
            Imp::Signalfd | Imp::RawPipe | Imp::RawFutex => Role::Reference,
            Imp::SigmuxRegistry
            | Imp::SigmuxFlag
            | Imp::SigmuxIter
            | Imp::SigmuxTokio
            | Imp::SigmuxAsyncStd => Role::Sigmux,
            _ => Role::Peer,
        }
    }

    /// Rows of the same group are alternatives to each other: a sigmux row's "vs best
    /// peer" ratio is taken to the best peer row of its group.
    pub(crate) fn group(self) -> &'static str {
        match self {
            Imp::Raw | Imp::Futex | Imp::Signalfd | Imp::RawPipe | Imp::RawFutex => "floor",
            Imp::SigmuxRegistry | Imp::HookRegistry => "registry",
            Imp::SigmuxFlag | Imp::HookFlag => "flag",
            Imp::SigmuxIter | Imp::HookIter => "iterator",
            Imp::TokioSignal | Imp::HookTokio | Imp::SigmuxTokio => "tokio",
            Imp::AsyncSignal | Imp::HookAsyncStd | Imp::SigmuxAsyncStd => "async-io",
        }
    }
}
