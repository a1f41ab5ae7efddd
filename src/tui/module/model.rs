//! The Module pane's model: the kmod source directories of the project
//! (`kmod/rust`, `kmod/c`), each with its build state and build log.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::tui::action::BuiltInfo;

/// Build log lines kept per source.
const LOG_LINES: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub enum BuildState {
    NotBuilt,
    Building,
    Built(BuiltInfo),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceView {
    /// "rust" or "c": what the build picker matches typed text against.
    pub label: String,
    pub path: PathBuf,
    /// The module(s) its Makefile declares, read before the UI starts.
    pub declares: Vec<String>,
    pub state: BuildState,
    pub log: VecDeque<String>,
}

impl SourceView {
    pub fn module_name(&self) -> Option<&str> {
        match &self.state {
            BuildState::Built(info) => Some(&info.name),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ModulePane {
    pub sources: Vec<SourceView>,
    pub selected: usize,
}

/// The kmod sources under a project root that exist. Reads the file
/// system: call it before the UI starts, never from the draw loop.
pub fn scan_sources(root: &Path) -> Vec<PathBuf> {
    ["rust", "c"]
        .iter()
        .map(|lang| root.join("kmod").join(lang))
        .filter(|p| p.is_dir())
        .collect()
}

impl ModulePane {
    pub fn new(sources: Vec<PathBuf>) -> ModulePane {
        ModulePane {
            sources: sources
                .into_iter()
                .map(|path| SourceView {
                    label: path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.display().to_string()),
                    declares: Vec::new(),
                    path,
                    state: BuildState::NotBuilt,
                    log: VecDeque::new(),
                })
                .collect(),
            selected: 0,
        }
    }

    /// The source a path refers to; a source built by path (e.g. from a
    /// lab step) that the pane did not list is added.
    pub fn source_mut(&mut self, path: &Path) -> &mut SourceView {
        let index = match self.sources.iter().position(|s| s.path == path) {
            Some(index) => index,
            None => {
                self.sources
                    .extend(ModulePane::new(vec![path.to_path_buf()]).sources);
                self.sources.len() - 1
            }
        };
        &mut self.sources[index]
    }

    pub fn log_line(&mut self, path: &Path, line: String) {
        let source = self.source_mut(path);
        if source.log.len() >= LOG_LINES {
            source.log.pop_front();
        }
        source.log.push_back(line);
    }

    pub fn built_paths(&self) -> Vec<PathBuf> {
        self.sources
            .iter()
            .filter(|s| matches!(s.state, BuildState::Built(_)))
            .map(|s| s.path.clone())
            .collect()
    }

    pub fn select_previous(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn select_next(&mut self) {
        self.selected = (self.selected + 1).min(self.sources.len().saturating_sub(1));
    }

    pub fn selected_source(&self) -> Option<&SourceView> {
        self.sources.get(self.selected)
    }
}
