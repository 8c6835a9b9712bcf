//! What the bad-input tests share: the classes of bad values, the documented rules, how a
//! case ended and the verdict on it.
#![allow(dead_code)] // each test file uses a part

use libc::c_int;

/// The signals the OS refuses to let anyone handle (none on Windows).
#[cfg(unix)]
const KILL: c_int = libc::SIGKILL;
#[cfg(unix)]
const STOP: c_int = libc::SIGSTOP;
#[cfg(not(unix))]
const KILL: c_int = c_int::MIN;
#[cfg(not(unix))]
const STOP: c_int = c_int::MIN;

/// What kind of bad value a number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    /// Not a signal at all here: -1, 0, above the maximum.
    Invalid,
    /// Kept by the C library (glibc: 32, 33).
    Reserved,
    /// In `FORBIDDEN`.
    Forbidden,
}

/// What a function is documented to do with bad values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rule {
    /// `Err(InvalidInput)` naming the signal, for every bad value.
    Checked,
    /// As `Checked`, but a documented panic (with a message) for `FORBIDDEN` signals.
    CompatPanics,
    /// Registration without the `FORBIDDEN` check: `Err` naming the signal for numbers that
    /// are no signal or reserved; for forbidden ones the OS decides (`EINVAL` for `SIGKILL`
    /// and `SIGSTOP`, accepted otherwise).
    Unchecked,
    /// A query: `Err` naming the signal for numbers that are no signal or reserved; a real
    /// signal is answered.
    Query,
    /// A name lookup: `None` for numbers that are no signal.
    Name,
    /// Sends or acts out a signal (`raise`, `emulate_default_handler`): `Err` for numbers
    /// that are no signal; a real signal takes effect (it may kill or stop the process).
    Sends,
    /// Changes a disposition: `Err` naming the signal for numbers that are no signal or
    /// reserved; the OS's `Err` for `SIGKILL`/`SIGSTOP`; allowed otherwise.
    Dispose,
    /// Removal: returns `false`, whatever the number.
    Remove,
}

/// How a case ended, as seen by the parent.
#[derive(Debug)]
pub(crate) enum Seen {
    /// The child reported: `ok`/`err`/`panic`, details, and whether the process went on.
    Reported {
        kind: String,
        detail: String,
        goes_on: bool,
    },
    /// Killed by a signal (no report, or the report came before).
    Killed(c_int),
    /// Stopped by a signal (then killed by the harness).
    Stopped(c_int),
    /// Exited without a report.
    Exited(i32),
}

/// A cell of the table: a short mark, whether it is acceptable, and the detail.
pub(crate) struct Verdict {
    pub(crate) mark: String,
    pub(crate) good: bool,
    pub(crate) detail: String,
}

pub(crate) fn verdict(rule: Rule, value: c_int, class: Class, seen: &Seen) -> Verdict {
    let names = |detail: &str| detail.contains(&value.to_string());
    let (mark, good) = match seen {
        Seen::Reported {
            kind,
            detail,
            goes_on,
        } => {
            let is_err = kind.starts_with("err");
            let invalid_input = kind == "err:InvalidInput";
            let base = match (rule, class) {
                (Rule::Remove, _) => (
                    if detail == "false" {
                        "false"
                    } else {
                        "true ✗"
                    }
                    .to_string(),
                    detail == "false",
                ),
                (Rule::Name, Class::Invalid) | (Rule::Name, Class::Reserved) => {
                    (detail.clone(), detail == "None")
                }
                (Rule::Name, Class::Forbidden) => (detail.clone(), detail.starts_with("Some")),
                (Rule::CompatPanics, Class::Forbidden) if kind == "panic" => {
                    ("panic (documented)".into(), names(detail))
                }
                (Rule::Unchecked, Class::Forbidden) | (Rule::Dispose, Class::Forbidden)
                    if value == KILL || value == STOP =>
                {
                    if is_err {
                        (
                            format!("Err {} (OS)", kind.trim_start_matches("err:")),
                            true,
                        )
                    } else {
                        ("Ok ✗".into(), false)
                    }
                }
                (Rule::Unchecked, Class::Forbidden)
                | (Rule::Dispose, Class::Forbidden)
                | (Rule::Query, Class::Forbidden)
                | (Rule::Sends, Class::Forbidden)
                | (Rule::Sends, Class::Reserved) => {
                    if kind == "ok" {
                        ("Ok (allowed)".into(), true)
                    } else if is_err {
                        (format!("Err {}", kind.trim_start_matches("err:")), true)
                    } else {
                        ("panic ✗".into(), false)
                    }
                }
                (Rule::Sends, Class::Invalid) if value == 0 && kind == "ok" => {
                    ("Ok (the null signal)".into(), true)
                }
                (Rule::Sends, Class::Invalid) => {
                    if is_err {
                        let clear = invalid_input && names(detail);
                        (
                            if clear {
                                "Err ✓".to_string()
                            } else {
                                format!(
                                    "Err {} (OS; does not name the signal)",
                                    kind.trim_start_matches("err:")
                                )
                            },
                            true,
                        )
                    } else {
                        (format!("{} ✗", kind), false)
                    }
                }
                _ => {
                    if invalid_input && names(detail) {
                        ("Err ✓".into(), true)
                    } else if is_err {
                        (
                            format!("Err {} (unclear) ✗", kind.trim_start_matches("err:")),
                            false,
                        )
                    } else if kind == "panic" {
                        ("panic (undocumented) ✗".into(), false)
                    } else {
                        ("Ok ✗".into(), false)
                    }
                }
            };
            if !goes_on {
                (format!("{}, process broken ✗", base.0), false)
            } else {
                base
            }
        }
        Seen::Killed(sig) if rule == Rule::Sends && class != Class::Invalid => {
            (format!("killed by {} (by design)", sig), true)
        }
        Seen::Stopped(sig) if rule == Rule::Sends && class != Class::Invalid => {
            (format!("stopped by {} (by design)", sig), true)
        }
        Seen::Killed(sig) => (format!("killed by signal {} ✗", sig), false),
        Seen::Stopped(sig) => (format!("stopped by signal {} ✗", sig), false),
        // Windows has no "killed by a signal": the C runtime ends the process with a code.
        Seen::Exited(code) if rule == Rule::Sends && class != Class::Invalid => {
            (format!("exited {} (by design)", code), true)
        }
        Seen::Exited(code) => (format!("exited {} without a report ✗", code), false),
    };
    let detail = match seen {
        Seen::Reported { kind, detail, .. } => format!("{}: {}", kind, detail),
        other => format!("{:?}", other),
    };
    Verdict { mark, good, detail }
}
