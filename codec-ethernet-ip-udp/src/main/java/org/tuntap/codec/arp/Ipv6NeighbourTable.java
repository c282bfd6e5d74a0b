package org.tuntap.codec.arp;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * IPv6 address (two longs) to MAC address, bounded and aging like the IPv4 table (see
 * {@link NeighbourAging}). Lookups go through one reused probe key, so resolving a destination
 * allocates nothing; only a new entry allocates its key. Event loop only, like its handler.
 */
final class Ipv6NeighbourTable extends NeighbourAging {

    /** An IPv6 address as a map key. */
    static final class Key {
        long high;
        long low;

        Key(long high, long low) {
            this.high = high;
            this.low = low;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.high == high && k.low == low;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(high * 31 + low);
        }
    }

    private final Map<Key, Entry> entries = new HashMap<>();
    private final Key probe = new Key(0, 0); // never stored: keys in the map are never changed

    @Override
    Iterator<Entry> entries() {
        return entries.values().iterator();
    }

    private Entry get(long high, long low) {
        probe.high = high;
        probe.low = low;
        return entries.get(probe);
    }

    /** A static entry: replaces any other for the address, never ages, ignores the capacity. */
    void putStatic(long high, long low, long mac) {
        replacedByStatic(entries.put(new Key(high, low), new Entry(mac, true)));
    }

    /**
     * Learns (or confirms) that the address is at {@code mac}. Static entries are not changed.
     *
     * @return false when the table was full and the entry refused
     */
    boolean learn(long high, long low, long mac) {
        Entry entry = get(high, low);
        if (entry != null) {
            entry.confirm(mac);
            return true;
        }
        if (!makeRoom()) {
            return false;
        }
        entries.put(new Key(high, low), new Entry(mac, false));
        addedLearned();
        return true;
    }

    /** The MAC of the address as {@code MacAddress.bits()}, or -1 when unknown. */
    long resolve(long high, long low) {
        Entry entry = get(high, low);
        return entry == null ? -1 : entry.mac;
    }

    /** Whether the address's entry is stale: it still resolves, but wants confirming. */
    boolean isStale(long high, long low) {
        Entry entry = get(high, low);
        return entry != null && entry.stale;
    }

    /** Visits every entry: address (high, low) and MAC bits. */
    void forEach(Visitor visitor) {
        for (Map.Entry<Key, Entry> e : entries.entrySet()) {
            visitor.visit(e.getKey().high, e.getKey().low, e.getValue().mac);
        }
    }

    /** What {@link #forEach} calls. */
    interface Visitor {
        void visit(long high, long low, long mac);
    }
}
