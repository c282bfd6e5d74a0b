package org.tuntap.codec.arp;

import java.util.Iterator;

/**
 * The bounds and aging both families' neighbour tables share ({@link NeighbourTable} for IPv4,
 * {@link Ipv6NeighbourTable} for IPv6), the way Linux's neighbour tables behave.
 *
 * <p>An entry confirmed (learned again) within a sweep stays reachable; one that was not turns
 * stale at the next sweep, and a stale one not confirmed by the sweep after is removed. A stale
 * entry still resolves, but asks its owner to probe, as the kernel keeps sending while it
 * re-checks. Static entries never age and do not count against the capacity. When the table is
 * full, stale entries make room; if none is stale, the new entry is refused (the kernel's
 * "neighbour table overflow"). Nothing reads a clock per packet: {@link #sweep} runs on a timer.
 */
abstract class NeighbourAging {

    /** Kernel's {@code gc_thresh3}: the most entries it keeps. */
    static final int DEFAULT_CAPACITY = 1024;

    /** One neighbour's MAC and where it is in its aging. */
    static final class Entry {
        long mac;
        final boolean permanent;
        boolean stale;
        boolean confirmed;

        Entry(long mac, boolean permanent) {
            this.mac = mac;
            this.permanent = permanent;
            this.confirmed = true;
        }

        /** Learned again: the (possibly new) MAC, reachable for another sweep. Static entries stay as they are. */
        void confirm(long newMac) {
            if (!permanent) {
                mac = newMac;
                stale = false;
                confirmed = true;
            }
        }
    }

    private int capacity = DEFAULT_CAPACITY;
    /** Entries learned, not static: what the capacity bounds. */
    private int learned;

    /** Every entry, for aging; its {@code remove} must work. */
    abstract Iterator<Entry> entries();

    void capacity(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
    }

    /** Before a new learned entry goes in: whether there is room for it (stale entries are removed to make some). */
    final boolean makeRoom() {
        return learned < capacity || removeStale();
    }

    /** A learned entry went in (after {@link #makeRoom}). */
    final void addedLearned() {
        learned++;
    }

    /** A static entry replaced {@code replaced} (or null). */
    final void replacedByStatic(Entry replaced) {
        if (replaced != null && !replaced.permanent) {
            learned--;
        }
    }

    /** One aging step: unconfirmed reachable entries turn stale, unconfirmed stale ones go. */
    final void sweep() {
        for (Iterator<Entry> it = entries(); it.hasNext(); ) {
            Entry entry = it.next();
            if (entry.permanent) {
                continue;
            }
            if (entry.confirmed) {
                entry.confirmed = false;
            } else if (!entry.stale) {
                entry.stale = true;
            } else {
                it.remove();
                learned--;
            }
        }
    }

    private boolean removeStale() {
        boolean removed = false;
        for (Iterator<Entry> it = entries(); it.hasNext(); ) {
            Entry entry = it.next();
            if (!entry.permanent && entry.stale) {
                it.remove();
                learned--;
                removed = true;
            }
        }
        return removed;
    }
}
