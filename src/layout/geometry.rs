//! Layout geometry (pure): fitting a picture into a region, clipping to the canvas.
