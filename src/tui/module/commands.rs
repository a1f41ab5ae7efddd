//! What the Module keys set in motion: building a kmod source, loading and
//! unloading the module it built, and the pickers that ask which one when
//! there are several.

use std::path::PathBuf;

use super::model::BuildState;
use crate::tui::action::Command;
use crate::tui::app::{App, Overlay};
use crate::tui::prompt::{PickItem, Picker, PickerKind};

pub(crate) fn start_build(app: &mut App, path: PathBuf) -> Option<u64> {
    if !app.require_ready() {
        return None;
    }
    let source = app.modules.source_mut(&path);
    if source.state == BuildState::Building {
        app.tell(format!("{} is already building", path.display()));
        return None;
    }
    source.state = BuildState::Building;
    source.log.clear();
    Some(app.submit(Command::Build { source: path }))
}

/// `b` anywhere: builds the only source, or asks which one.
pub(crate) fn build_picker(app: &mut App) {
    match app.modules.sources.len() {
        0 => app.complain(format!(
            "no kmod/rust or kmod/c under {}",
            app.project_root.display()
        )),
        1 => {
            let path = app.modules.sources[0].path.clone();
            start_build(app, path);
        }
        _ => {
            let items = app
                .modules
                .sources
                .iter()
                .map(|s| PickItem {
                    key: s.label.clone(),
                    detail: s
                        .path
                        .strip_prefix(&app.project_root)
                        .unwrap_or(&s.path)
                        .display()
                        .to_string(),
                })
                .collect();
            app.overlay = Some(Overlay::Picker(Picker::new(
                PickerKind::BuildSource,
                "Build which module?",
                items,
            )));
        }
    }
}

/// The build picker's choice, by label ("rust", "c").
pub(crate) fn build_named(app: &mut App, label: &str) {
    let path = app
        .modules
        .sources
        .iter()
        .find(|s| s.label == label)
        .map(|s| s.path.clone());
    match path {
        Some(path) => {
            start_build(app, path);
        }
        None => app.complain(format!("no kmod source '{label}'")),
    }
}

/// `b` in the Module pane: builds the selected source.
pub(crate) fn build_selected(app: &mut App) {
    if let Some(source) = app.modules.selected_source() {
        let path = source.path.clone();
        start_build(app, path);
    } else {
        build_picker(app);
    }
}

/// `l`/`u` in the Module pane: the module the selected source built.
pub(crate) fn load_selected(app: &mut App, load: bool) {
    match app
        .modules
        .selected_source()
        .and_then(|s| s.module_name())
        .map(str::to_string)
    {
        Some(name) if load => load_module(app, name),
        Some(name) => unload_module(app, name),
        None => module_picker(app, load),
    }
}

/// `R` in the Module pane: hot reload. The selected source's module must
/// be loaded; it is rebuilt and swapped in under every live device using
/// it (names and data stay).
pub(crate) fn reload_selected(app: &mut App) {
    let Some(source) = app.modules.selected_source() else {
        app.complain("no kmod source to reload");
        return;
    };
    let path = source.path.clone();
    let loaded = source
        .module_name()
        .filter(|name| {
            app.state
                .modules
                .iter()
                .any(|m| m.name == *name && m.loaded)
        })
        .map(str::to_string);
    let Some(name) = loaded else {
        app.complain(format!(
            "{}: build and load its module first ('b', 'l'); reload swaps a loaded one",
            path.display()
        ));
        return;
    };
    if !app.require_ready() {
        return;
    }
    let source = app.modules.source_mut(&path);
    source.state = BuildState::Building;
    source.log.clear();
    app.submit(Command::ReloadModule { source: path, name });
}

pub(crate) fn show_build_log(app: &mut App) {
    if !app.modules.sources.is_empty() {
        app.overlay = Some(Overlay::BuildLog {
            source: app.modules.selected,
            scroll: 0,
        });
    }
}

pub(crate) fn load_module(app: &mut App, name: String) {
    if app.require_ready() {
        app.submit(Command::LoadModule { name });
    }
}

pub(crate) fn unload_module(app: &mut App, name: String) {
    if app.require_ready() {
        app.submit(Command::UnloadModule { name });
    }
}

/// `l`/`u` without a selected source: the modules that can be loaded
/// (built, not loaded) or unloaded (loaded by this session).
pub(crate) fn module_picker(app: &mut App, load: bool) {
    let names: Vec<String> = if load {
        let mut names: Vec<String> = app
            .modules
            .sources
            .iter()
            .filter_map(|s| s.module_name().map(str::to_string))
            .collect();
        names.extend(app.state.modules.iter().map(|m| m.name.clone()));
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|n| !app.state.modules.iter().any(|m| m.name == *n && m.loaded))
            .collect()
    } else {
        app.state
            .modules
            .iter()
            .filter(|m| m.loaded)
            .map(|m| m.name.clone())
            .collect()
    };
    match names.len() {
        0 if load => app.complain("no built module to load: build one with 'b'"),
        0 => app.complain("no module loaded by this session"),
        1 if load => load_module(app, names[0].clone()),
        1 => unload_module(app, names[0].clone()),
        _ => {
            let items = names
                .into_iter()
                .map(|n| PickItem {
                    key: n,
                    detail: String::new(),
                })
                .collect();
            let (kind, title) = if load {
                (PickerKind::LoadModule, "Load which module?")
            } else {
                (PickerKind::UnloadModule, "Unload which module?")
            };
            app.overlay = Some(Overlay::Picker(Picker::new(kind, title, items)));
        }
    }
}
