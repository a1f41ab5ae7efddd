//! Kernel crashes in source terms: an Oops, BUG, WARN or panic in a
//! module the session built is read from the console or the kernel log
//! (`parse`) and decoded to the function and `file:line` of the module's
//! source, with that line, and the call trace (`decode`).

pub mod decode;
pub mod parse;

use serde::Serialize;

pub use decode::{Decoder, ModuleImage};
pub use parse::{CrashKind, RawCrash};

/// One frame of a decoded call trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceFrame {
    pub function: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// `file:line`, for frames in a module with line information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// False for the unwinder's guesses (`? ` lines).
    pub reliable: bool,
}

/// A crash as the report and the front ends show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Crash {
    pub kind: CrashKind,
    /// The kernel's headline.
    pub message: String,
    /// The module it happened in, when it was a module.
    pub module: Option<String>,
    /// The function it happened in.
    pub function: Option<String>,
    /// `file:line` in the module's source.
    pub location: Option<String>,
    /// The text of that line.
    pub source_line: Option<String>,
    pub trace: Vec<TraceFrame>,
    /// The report as the kernel printed it, timestamps removed.
    pub console: Vec<String>,
}

impl Crash {
    /// Reads the first report in `text` and decodes it with `decoder`.
    pub fn from_text(text: &str, decoder: &mut Decoder) -> Option<Crash> {
        parse::parse(text).map(|raw| Crash::decode(raw, decoder))
    }

    pub fn decode(raw: RawCrash, decoder: &mut Decoder) -> Crash {
        let place = raw.at.as_ref().and_then(|f| decoder.place(f));
        let location = place
            .as_ref()
            .map(decode::SourcePlace::location)
            .or(raw.warn_location.clone());
        let trace = raw
            .trace
            .iter()
            .map(|f| {
                let place = decoder.place(f);
                TraceFrame {
                    function: place
                        .as_ref()
                        .map_or_else(|| f.function.clone(), |p| p.function.clone()),
                    module: f.module.clone(),
                    location: place.as_ref().map(decode::SourcePlace::location),
                    reliable: f.reliable,
                }
            })
            .collect();
        Crash {
            kind: raw.kind,
            message: raw.message,
            module: raw.at.as_ref().and_then(|f| f.module.clone()),
            function: place
                .as_ref()
                .map(|p| p.function.clone())
                .or(raw.at.as_ref().map(|f| f.function.clone())),
            location,
            source_line: place.as_ref().and_then(decode::SourcePlace::source_text),
            trace,
            console: raw.lines,
        }
    }

    /// A few lines for a terminal: the headline, where, the source line
    /// and the call trace.
    pub fn summary(&self) -> String {
        let mut out = format!("{} ({})", self.message, self.kind.name());
        if let Some(function) = &self.function {
            out.push_str(&format!("\n  in {function}"));
            if let Some(module) = &self.module {
                out.push_str(&format!(" [{module}]"));
            }
        }
        if let Some(location) = &self.location {
            out.push_str(&format!(" at {location}"));
        }
        if let (Some(text), Some(line)) = (
            &self.source_line,
            self.location.as_ref().and_then(|l| l.rsplit_once(':')),
        ) {
            out.push_str(&format!("\n    {} | {}", line.1, text.trim()));
        }
        let reliable = self.trace.iter().filter(|f| f.reliable).count();
        if !self.trace.is_empty() {
            out.push_str(&format!(
                "\n  call trace{}:",
                if reliable == 0 {
                    " (guessed: the kernel has no reliable unwinder)"
                } else {
                    ""
                }
            ));
            for frame in self.trace.iter().take(12) {
                out.push_str(&format!(
                    "\n    {}{}{}",
                    if frame.reliable { "" } else { "? " },
                    frame.function,
                    frame
                        .location
                        .as_ref()
                        .map(|l| format!(" at {l}"))
                        .unwrap_or_default()
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undecodable_module_frame_keeps_the_kernels_words() {
        let text = include_str!("fixtures/null_deref_oops.txt");
        let crash = Crash::from_text(text, &mut Decoder::new(&[])).expect("crash");
        assert_eq!(crash.module.as_deref(), Some("basic_target"));
        assert_eq!(crash.function.as_deref(), Some("basic_target_map"));
        assert_eq!(crash.location, None);
        let summary = crash.summary();
        assert!(summary.starts_with("BUG: kernel NULL pointer dereference"));
        assert!(
            summary.contains("in basic_target_map [basic_target]"),
            "{summary}"
        );
        assert!(summary.contains("? __map_bio"), "{summary}");
    }
}
