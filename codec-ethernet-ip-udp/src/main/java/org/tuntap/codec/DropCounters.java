package org.tuntap.codec;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts of dropped packets per {@link DropReason}, one instance per handler. Written by the
 * handler's event loop, readable from any thread (e.g. a metrics exporter).
 */
public final class DropCounters {

    private static final DropReason[] REASONS = DropReason.values();

    private final AtomicLongArray counts = new AtomicLongArray(REASONS.length);

    /** Counters all at zero. */
    public DropCounters() {
    }

    /** Counts one drop. Called by the codecs; a handler of your own may use it too. */
    public void increment(DropReason reason) {
        counts.incrementAndGet(reason.ordinal());
    }

    /** Drops counted for this reason so far. */
    public long get(DropReason reason) {
        return counts.get(reason.ordinal());
    }

    /** Drops counted for all reasons so far. */
    public long total() {
        long total = 0;
        for (int i = 0; i < REASONS.length; i++) {
            total += counts.get(i);
        }
        return total;
    }

    /** The non-zero counts, in {@link DropReason} order. */
    public Map<DropReason, Long> snapshot() {
        Map<DropReason, Long> snapshot = new EnumMap<>(DropReason.class);
        for (DropReason reason : REASONS) {
            long count = counts.get(reason.ordinal());
            if (count != 0) {
                snapshot.put(reason, count);
            }
        }
        return snapshot;
    }

    @Override
    public String toString() {
        return "DropCounters" + snapshot();
    }
}
