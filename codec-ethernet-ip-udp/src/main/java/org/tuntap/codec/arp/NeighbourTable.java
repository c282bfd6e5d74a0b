package org.tuntap.codec.arp;

import io.netty.util.collection.IntObjectHashMap;

import java.util.Iterator;
import java.util.function.BiConsumer;

/**
 * IPv4 address to MAC address, bounded and aging the way Linux's neighbour table does (see
 * {@link NeighbourAging}), so no stream of bogus senders can grow it without end or point an
 * address somewhere for ever. Keyed by the address as an int: nothing allocated per lookup.
 */
final class NeighbourTable extends NeighbourAging {

    private final IntObjectHashMap<Entry> entries = new IntObjectHashMap<>();

    @Override
    Iterator<Entry> entries() {
        Iterator<IntObjectHashMap.PrimitiveEntry<Entry>> it = entries.entries().iterator();
        return new Iterator<>() {
            @Override
            public boolean hasNext() {
                return it.hasNext();
            }

            @Override
            public Entry next() {
                return it.next().value();
            }

            @Override
            public void remove() {
                it.remove();
            }
        };
    }

    /** A static entry: replaces any other for the address, never ages, ignores the capacity. */
    void putStatic(int ip, long mac) {
        replacedByStatic(entries.put(ip, new Entry(mac, true)));
    }

    /**
     * Learns (or confirms) that {@code ip} is at {@code mac}. Static entries are not changed.
     *
     * @return false when the table was full and the entry refused
     */
    boolean learn(int ip, long mac) {
        Entry entry = entries.get(ip);
        if (entry != null) {
            entry.confirm(mac);
            return true;
        }
        if (!makeRoom()) {
            return false;
        }
        entries.put(ip, new Entry(mac, false));
        addedLearned();
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

    /** Visits every entry: address and MAC bits. */
    void forEach(BiConsumer<Integer, Long> visitor) {
        for (IntObjectHashMap.PrimitiveEntry<Entry> e : entries.entries()) {
            visitor.accept(e.key(), e.value().mac);
        }
    }
}
