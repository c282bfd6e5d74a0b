package org.tuntap.testkit;

/**
 * What the in-memory event loop ({@link MemoryIoHandler}) needs from an open in-memory file to
 * deliver readiness the way epoll does for a real fd: level-triggered, with a wake-up whenever
 * readiness may have changed, from any thread. No polling, no sleeps.
 */
public interface Pollable {

    /** Whether a read would return data (or fail with something other than EAGAIN) now. */
    boolean isReadable();

    /** Whether a write would not fail with EAGAIN now. */
    boolean isWritable();

    /**
     * Sets the one listener to run, on whatever thread changed things, after every change that may
     * make this file readable or writable (a packet queued for reading, written packets taken
     * out, the file closed). {@code null} removes it.
     */
    void setReadinessListener(Runnable listener);
}
