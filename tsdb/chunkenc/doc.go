// Package chunkenc encodes chunks of time-series points compactly: the
// points of one series (one property of one entity's component), sorted by
// time, with unique times. The store seals each encoded chunk as one
// encrypted value, so what counts is bytes per point; on regular sensor
// data a chunk of 1000 points takes well under 2 bytes per point, headers
// included.
//
// A Chunk is columnar: Times in Unix nanoseconds and one value column,
// chosen by its Kind (the TwinMaker data types: DOUBLE, INTEGER and LONG,
// BOOLEAN, STRING, and LIST, MAP or RELATIONSHIP values passed as
// canonical JSON bytes). Encode appends a chunk's encoding to a buffer;
// Decode checks everything and never panics, whatever its input.
//
// The format, drawn byte by byte in FORMAT.md, is in the style of
// Prometheus' tsdb/chunkenc, with a few more encodings that the encoder
// picks per chunk and per column, by exact size:
//
//   - times: the first time, then offsets from it divided by their common
//     unit (the GCD of the deltas), either frame-of-reference bit-packed
//     (deltas, or distance from a fitted schedule) or as Gorilla
//     delta-of-delta codes;
//   - doubles: decimal (v = m / 10^e with m an integer sequence) when every
//     value is a short decimal, a dictionary when few values repeat, and
//     Gorilla XOR otherwise; NaN payloads, ±Inf and -0 round-trip bit for
//     bit;
//   - integers: a frame-of-reference bit-packed sequence of the values,
//     their deltas or their runs, with per-block exceptions for outliers;
//   - booleans: a bitmap, or run lengths;
//   - strings and bytes: a dictionary of the distinct values, then each
//     point's index as an integer sequence.
//
// Merge, Slice and Split are the operations a store needs between reading
// chunks and writing them back.
package chunkenc
