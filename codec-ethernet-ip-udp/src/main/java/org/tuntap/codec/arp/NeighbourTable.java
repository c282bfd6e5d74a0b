package org.tuntap.codec.arp;

import io.netty.util.collection.IntObjectHashMap;

import java.util.Iterator;

/**
 * IPv4 address to MAC address, bounded and aging the way Linux's neighbour table does, so no
 * stream of bogus senders can grow it without end or point an address somewhere for ever.
 *
 * <p>An entry confirmed (learned again) within a sweep stays reachable; one that was not turns
 * stale at the next sweep, and a stale one not confirmed by the sweep after is removed. A stale
 * entry still resolves, but asks its owner to probe ({@link #isStale}), as the kernel keeps
 * sending while it re-checks. Static entries never age. When the table is full, stale entries
 * make room; if none is stale, the new entry is refused (the kernel's "neighbour table
 * overflow"). Nothing reads a clock per packet: {@link #sweep} runs on a timer.
 */
final class NeighbourTable {

    /** Kernel's {@code gc_thresh3}: the most entries it keeps. */
    static final int DEFAULT_CAPACITY = 1024;

    private static final class Entry {
        long mac;
        boolean permanent;
        boolean stale;
        boolean confirmed;

        Entry(long mac, boolean permanent) {
            this.mac = mac;
            this.permanent = permanent;
            this.confirmed = true;
        }
    }

    private final IntObjectHashMap<Entry> entries = new IntObjectHashMap<>();
    private int capacity = DEFAULT_CAPACITY;
    /** Entries learned, not static: what the capacity bounds. */
    private int learned;

    void capacity(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
    }

    /** A static entry: replaces any other for the address, never ages, ignores the capacity. */
    void putStatic(int ip, long mac) {
        Entry replaced = entries.put(ip, new Entry(mac, true));
        if (replaced != null && !replaced.permanent) {
            learned--;
        }
    }

    /**
     * Learns (or confirms) that {@code ip} is at {@code mac}. Static entries are not changed.
     *
     * @return false when the table was full and the entry refused
     */
    boolean learn(int ip, long mac) {
        Entry entry = entries.get(ip);
        if (entry != null) {
            if (!entry.permanent) {
                entry.mac = mac;
                entry.stale = false;
                entry.confirmed = true;
            }
            return true;
        }
        if (learned >= capacity && !removeStale()) {
            return false;
        }
        entries.put(ip, new Entry(mac, false));
        learned++;
        return true;
    }

    /** The MAC of {@code ip} as {@code MacAddress.bits()}, or -1 when unknown. */
    long resolve(int ip) {
        Entry entry = entries.get(ip);
        return entry == null ? -1 : entry.mac;
    }

    /** Whether {@code ip}'s entry is stale: it still resolves, but wants confirming. */
    boolean isStale(int ip) {
        Entry entry = entries.get(ip);
        return entry != null && entry.stale;
    }

    /** One aging step: unconfirmed reachable entries turn stale, unconfirmed stale ones go. */
    void sweep() {
        for (Iterator<IntObjectHashMap.PrimitiveEntry<Entry>> it = entries.entries().iterator(); it.hasNext(); ) {
            Entry entry = it.next().value();
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
        for (Iterator<IntObjectHashMap.PrimitiveEntry<Entry>> it = entries.entries().iterator(); it.hasNext(); ) {
            Entry entry = it.next().value();
            if (!entry.permanent && entry.stale) {
                it.remove();
                learned--;
                removed = true;
            }
        }
        return removed;
    }

    /** Visits every entry: address and MAC bits. */
    void forEach(java.util.function.BiConsumer<Integer, Long> visitor) {
        for (IntObjectHashMap.PrimitiveEntry<Entry> e : entries.entries()) {
            visitor.accept(e.key(), e.value().mac);
        }
    }
}
