//! Offline mixing from media files on a virtual clock.
