//! The colour of each digit in the figures and on the page (Tableau 10): one palette for the
//! trainer's PNG figures and the page's scatter and legend.

/// RGB colour of digits 0–9.
pub const DIGIT_COLOURS: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];
