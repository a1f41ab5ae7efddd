//! Sector-range bars: the DM device's segments, and each backing disk's
//! used ranges, drawn one cell per slice of sectors with the segment's
//! colour and a label. Adjacent segments alternate fill characters so the
//! boundaries show even without colour.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

/// A coloured range on a bar.
pub struct Span {
    pub start: u64,
    pub length: u64,
    pub colour: Color,
    pub fill: &'static str,
    pub label: String,
    pub emphasis: bool,
}

/// Columns [first, last) a sector range covers on a bar `width` wide.
pub fn columns(start: u64, length: u64, total: u64, width: u16) -> (u16, u16) {
    if total == 0 || width == 0 {
        return (0, 0);
    }
    let w = u128::from(width);
    let t = u128::from(total);
    let first = (u128::from(start) * w / t) as u16;
    let end = u128::from(start.saturating_add(length)).min(t);
    // Round up so that every non-empty range gets at least one cell.
    let last = end.saturating_mul(w).div_ceil(t) as u16;
    (first.min(width), last.max(first + 1).min(width))
}

/// The column of a sector.
pub fn column_of(sector: u64, total: u64, width: u16) -> u16 {
    if total == 0 || width == 0 {
        return 0;
    }
    ((u128::from(sector) * u128::from(width) / u128::from(total)) as u16).min(width - 1)
}

/// The sector under a column (its first sector).
pub fn sector_at(column: u16, total: u64, width: u16) -> u64 {
    if width == 0 {
        return 0;
    }
    (u128::from(column) * u128::from(total) / u128::from(width)) as u64
}

/// Paints one row: `background` where no span lies, spans on top with
/// their labels centred when they fit.
pub fn paint(buf: &mut Buffer, area: Rect, total: u64, spans: &[Span], background: (&str, Style)) {
    let y = area.y;
    for x in area.x..area.x + area.width {
        if let Some(cell) = buf.cell_mut((x, y)) {
            cell.set_symbol(background.0).set_style(background.1);
        }
    }
    for span in spans {
        let (first, last) = columns(span.start, span.length, total, area.width);
        let style = Style::new().fg(span.colour);
        for col in first..last {
            if let Some(cell) = buf.cell_mut((area.x + col, y)) {
                cell.set_symbol(span.fill).set_style(style);
            }
        }
        let room = usize::from(last - first);
        let label: Vec<char> = span.label.chars().collect();
        if room >= 3 && !label.is_empty() {
            let shown: Vec<char> = if label.len() <= room {
                label
            } else {
                label[..room].to_vec()
            };
            let offset = first + ((room - shown.len()) / 2) as u16;
            let mut label_style = Style::new().fg(Color::Black).bg(span.colour);
            if span.emphasis {
                label_style = label_style.add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
            }
            for (i, c) in shown.iter().enumerate() {
                if let Some(cell) = buf.cell_mut((area.x + offset + i as u16, y)) {
                    cell.set_char(*c).set_style(label_style);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_range_gets_a_cell_and_ranges_tile_the_bar() {
        assert_eq!(columns(0, 1, 1_000_000, 50), (0, 1));
        assert_eq!(columns(0, 500, 1000, 50), (0, 25));
        assert_eq!(columns(500, 500, 1000, 50), (25, 50));
        assert_eq!(column_of(999, 1000, 50), 49);
        assert_eq!(sector_at(25, 1000, 50), 500);
    }
}
