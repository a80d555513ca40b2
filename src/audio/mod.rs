//! Audio mixing on the 48 kHz output timeline.
