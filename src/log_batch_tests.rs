//! A thread's batch of access lines: when it asks to be handed over, and what it hands over.

use std::time::{Duration, SystemTime};

use super::{Batch, CAPACITY, HANDOFF, reusable};
use crate::log_sink::DRAIN_EVERY;

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_410_659) + Duration::from_millis(ms)
}

fn line(text: &str) -> impl FnOnce(&mut Vec<u8>) + '_ {
    move |out| {
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
    }
}

#[test]
fn lines_wait_in_order_until_taken() {
    let mut batch = Batch::new();
    assert!(batch.take().is_none(), "an empty batch hands nothing over");
    assert!(!batch.add(at(0), line("one")));
    assert!(!batch.add(at(5), line("two")));
    assert!(!batch.add(at(19), line("three")));
    let (bytes, lines) = batch.take().expect("three lines");
    assert_eq!(bytes, b"one\ntwo\nthree\n");
    assert_eq!(lines, 3);
    assert!(batch.take().is_none(), "taking empties the batch");
}

#[test]
fn a_full_batch_asks_to_be_handed_over_without_growing() {
    let mut batch = Batch::new();
    let text = "x".repeat(299);
    let mut added = 0;
    let mut capacity = None;
    while !batch.add(at(0), line(&text)) {
        added += 1;
        assert!(
            added < 1000,
            "a batch past {HANDOFF} bytes must ask to be handed over"
        );
    }
    let (bytes, lines) = batch.take().expect("lines");
    assert!(bytes.len() >= HANDOFF && bytes.len() < HANDOFF + 300);
    assert_eq!(lines, added + 1);
    // Every batch starts with room for all of it.
    while !batch.add(at(1), line(&text)) {
        let now = batch.buf.capacity();
        assert_eq!(
            *capacity.get_or_insert(now),
            now,
            "the batch grew while filling"
        );
    }
    assert_eq!(capacity, Some(CAPACITY));
}

#[test]
fn an_old_first_line_asks_for_the_hand_over() {
    let mut batch = Batch::new();
    assert!(!batch.add(at(100), line("first")));
    let late = DRAIN_EVERY.as_millis() as u64;
    assert!(batch.add(at(100 + late), line("late")));
    let (bytes, _) = batch.take().expect("lines");
    assert_eq!(bytes, b"first\nlate\n");
    // The age counts from the first line of the new batch, not of the old one.
    assert!(!batch.add(at(100 + late + 1), line("fresh")));
}

#[test]
fn a_clock_stepping_back_hands_the_batch_over_without_panicking() {
    let mut batch = Batch::new();
    assert!(!batch.add(at(1000), line("before")));
    // The batch's age is unknown: it goes over rather than wait for the clock to catch up.
    assert!(batch.add(at(10), line("after a step back")));
    let (_, lines) = batch.take().expect("lines");
    assert_eq!(lines, 2);
    // The next batch counts its age from its own first line.
    assert!(!batch.add(at(11), line("next")));
}

#[test]
fn a_parking_thread_hands_over_a_copy_and_keeps_its_buffer() {
    let mut batch = Batch::new();
    assert!(
        batch.take_copy().is_none(),
        "an empty batch hands nothing over"
    );
    assert!(!batch.add(at(0), line("one")));
    assert!(!batch.add(at(1), line("two")));
    let buffer = batch.buf.as_ptr();
    let (bytes, lines) = batch.take_copy().expect("two lines");
    assert_eq!(bytes, b"one\ntwo\n");
    assert_eq!(lines, 2);
    assert_eq!(bytes.capacity(), bytes.len(), "the copy is exact-size");
    assert!(batch.buf.is_empty(), "the lines went over");
    assert_eq!(batch.buf.capacity(), CAPACITY, "the buffer stayed");
    assert!(
        !batch.add(at(50), line("three")),
        "a new batch starts its own age"
    );
    assert_eq!(batch.buf.as_ptr(), buffer, "and fills the same buffer");
    let (bytes, lines) = batch.take().expect("one line");
    assert_eq!((bytes.as_slice(), lines), (b"three\n" as &[u8], 1));
}

#[test]
fn a_batch_grown_by_a_long_line_is_reused_and_a_lone_line_is_not() {
    let mut batch = Batch::new();
    assert!(!batch.add(at(0), line(&"x".repeat(HANDOFF - 10))));
    // Crosses the hand-over mark by more than the slack: the buffer grows.
    assert!(batch.add(at(0), line(&"y".repeat(8 * 1024))));
    let (grown, _) = batch.take().expect("lines");
    assert!(grown.capacity() > CAPACITY);
    assert!(reusable(grown.capacity()), "{}", grown.capacity());
    assert!(reusable(CAPACITY));
    // A parked thread's exact-size copy, and a buffer a huge line blew up.
    assert!(!reusable(300));
    assert!(!reusable(64 * CAPACITY));
}
