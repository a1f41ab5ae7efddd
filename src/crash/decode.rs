//! From `function+offset [module]` to the module's source: the function's
//! place in the built `.ko` (its symbol table, via objdump) plus the
//! offset, looked up in the module's DWARF line table by the toolchain's
//! addr2line (inlined frames included). Kernel frames keep their names.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::parse::RawFrame;

/// A module the session loaded, as built (with its debug information).
#[derive(Debug, Clone)]
pub struct ModuleImage {
    pub name: String,
    pub path: PathBuf,
    /// The kmod directory it was built from (its files are recorded
    /// relative to it); of a chain of inlined frames, the innermost one in
    /// these sources is the one to show, not library code inlined into it.
    pub source: Option<PathBuf>,
}

/// Where an address of a module lies in its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePlace {
    /// The function, demangled (Rust) and innermost (inlined code).
    pub function: String,
    pub file: PathBuf,
    pub line: u32,
}

impl SourcePlace {
    pub fn location(&self) -> String {
        let cwd = std::env::current_dir().unwrap_or_default();
        let file = self.file.strip_prefix(&cwd).unwrap_or(&self.file);
        format!("{}:{}", file.display(), self.line)
    }

    /// The text of the line, if the file is still there.
    pub fn source_text(&self) -> Option<String> {
        let text = std::fs::read_to_string(&self.file).ok()?;
        text.lines()
            .nth(self.line.checked_sub(1)? as usize)
            .map(|l| l.trim_end().to_string())
    }
}

/// Decodes frames of the modules it knows; symbol tables are read once.
pub struct Decoder {
    modules: HashMap<String, ModuleImage>,
    symbols: HashMap<String, HashMap<String, (String, u64)>>,
}

impl Decoder {
    pub fn new(modules: &[ModuleImage]) -> Self {
        Decoder {
            modules: modules
                .iter()
                .map(|m| (m.name.clone(), m.clone()))
                .collect(),
            symbols: HashMap::new(),
        }
    }

    /// The source place of a module frame, when the module is known and
    /// was built with line information.
    pub fn place(&mut self, frame: &RawFrame) -> Option<SourcePlace> {
        let module = frame.module.as_ref()?;
        let image = self.modules.get(module)?.clone();
        let symbols = self
            .symbols
            .entry(module.clone())
            .or_insert_with(|| symbol_table(&image.path));
        let (section, value) = symbols.get(&frame.function)?.clone();
        let chain = addr2line(&image.path, &section, value + frame.offset);
        // Modules are built with their own directory recorded as `.`: a
        // relative file is the target's own, in the source it was
        // registered with; absolute ones are headers and library code.
        let ours = chain
            .iter()
            .find(|p| p.file.is_relative())
            .map(|p| SourcePlace {
                file: match &image.source {
                    Some(dir) => dir.join(normalise(&p.file)),
                    None => normalise(&p.file),
                },
                ..p.clone()
            });
        ours.or_else(|| chain.first().cloned())
    }
}

/// `././x.c` -> `x.c`.
fn normalise(path: &Path) -> PathBuf {
    path.components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect()
}

/// `name -> (section, value)` of the functions in an ELF object.
fn symbol_table(image: &Path) -> HashMap<String, (String, u64)> {
    let Ok(out) = Command::new("objdump").arg("-t").arg(image).output() else {
        return HashMap::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(parse_symbol)
        .collect()
}

/// `000000000000018f l     F .text\t000000000000011d basic_target_map`
fn parse_symbol(line: &str) -> Option<(String, (String, u64))> {
    let (value, rest) = line.split_once(' ')?;
    let value = u64::from_str_radix(value, 16).ok()?;
    // Seven flag columns, then the section, a tab, the size and the name.
    let rest = rest.get(7..)?.trim_start();
    let (section, rest) = rest.split_once('\t')?;
    let (_, name) = rest.trim().split_once(' ')?;
    if !rest.contains(' ') || section.is_empty() {
        return None;
    }
    Some((name.trim().to_string(), (section.trim().to_string(), value)))
}

/// The chain of (inlined) functions at an address, innermost first.
fn addr2line(image: &Path, section: &str, address: u64) -> Vec<SourcePlace> {
    let Ok(out) = Command::new("addr2line")
        .arg("-e")
        .arg(image)
        .args(["-j", section, "-f", "-i", "-C"])
        .arg(format!("{address:#x}"))
        .output()
    else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .chunks(2)
        .filter_map(|pair| {
            let [function, place] = pair else {
                return None;
            };
            let (file, line) = place.trim().rsplit_once(':')?;
            let line: u32 = line.split_whitespace().next()?.parse().ok()?;
            (file != "??" && line != 0).then(|| SourcePlace {
                function: function.trim().to_string(),
                file: PathBuf::from(file),
                line,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objdump_symbol_lines_are_read() {
        let (name, (section, value)) =
            parse_symbol("000000000000018f l     F .text\t000000000000011d basic_target_map")
                .expect("a symbol");
        assert_eq!(name, "basic_target_map");
        assert_eq!(section, ".text");
        assert_eq!(value, 0x18f);
        assert!(parse_symbol("SYMBOL TABLE:").is_none());
    }
}
