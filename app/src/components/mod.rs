//! Reusable view pieces.
pub mod download_gate;
pub mod grid_canvas;
pub mod grid_preview;
pub mod grid_rows;
pub mod grid_view;
pub mod lang_switch;
pub mod otp_form;
pub mod pattern_editor;
pub mod pattern_picture;
pub mod pick;
