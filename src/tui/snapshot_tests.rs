//! Snapshot tests of every pane in its main states, driven through the
//! real worker and Session over the fake executor.
