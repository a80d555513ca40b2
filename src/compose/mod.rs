//! The YUV 4:2:0 canvas and drawing sources into regions.
