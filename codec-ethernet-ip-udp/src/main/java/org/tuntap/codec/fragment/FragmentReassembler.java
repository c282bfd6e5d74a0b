package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import org.tuntap.codec.DropCounters;
import org.tuntap.codec.DropReason;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Puts fragmented IPv4 and IPv6 datagrams back together, within bounds: the pure logic, with no
 * pipeline and no timer of its own. Give it each fragment ({@link #offer}); when one completes
 * its datagram it returns the {@link Reassembled} datagram. Time comes from the clock passed in;
 * call {@link #expire} when {@link #nextExpiry} has passed (a handler schedules that on its event
 * loop), and {@link #close} to release everything held. Not thread-safe: one event loop.
 *
 * <p>Rules, as Linux applies them to both families: a fragment overlapping another of its
 * datagram drops the whole datagram ({@link DropReason#FRAGMENT_OVERLAP}; RFC 5722 for IPv6,
 * and Linux does the same for IPv4 since 4.19), and later fragments of it are dropped until its
 * timeout; an exact duplicate is dropped alone ({@link DropReason#FRAGMENT_DUPLICATE}); fragments
 * that disagree about the end of the datagram, a non-last fragment whose data is not a multiple
 * of 8 bytes, or a payload beyond 65535 bytes drop the datagram
 * ({@link DropReason#FRAGMENT_INCONSISTENT}); a fragment beyond {@link ReassemblyLimits#maxBytes}
 * is refused, and a datagram with more than {@link ReassemblyLimits#maxFragmentsPerDatagram}
 * fragments dropped ({@link DropReason#REASSEMBLY_LIMIT}); a datagram still incomplete
 * {@link ReassemblyLimits#timeout} after its first fragment is dropped
 * ({@link DropReason#REASSEMBLY_TIMEOUT}). Every buffer is released when its datagram completes
 * (into the result), is dropped, expires, or the reassembler closes.
 */
public final class FragmentReassembler implements AutoCloseable {

    /** Largest reassembled payload (the IPv4 and IPv6 length fields are 16 bits). */
    public static final int MAX_PAYLOAD = 0xFFFF;
    /** Bookkeeping charged per fragment held, on top of its bytes (Linux charges an skb's truesize). */
    static final int FRAGMENT_OVERHEAD = 64;

    private final ByteBufAllocator alloc;
    private final ReassemblyLimits limits;
    private final LongSupplier nanoClock;
    private final long timeoutNanos;
    private final DropCounters counters;
    /** In creation order, which is deadline order (one timeout for all). */
    private final Map<FragmentKey, Datagram> datagrams = new LinkedHashMap<>();
    private long bytesHeld;
    private boolean closed;
    private ExpiryListener expiryListener;

    /**
     * Told about each datagram that expires with its first fragment (offset 0) received: the one
     * case in which RFC 792 and RFC 8200 let a host answer with "time exceeded".
     */
    @FunctionalInterface
    public interface ExpiryListener {
        /**
         * @param firstFragment the first fragment's packet, its readable bytes from its IP header;
         *     released after the call (retain it, or copy from it, to keep it)
         */
        void expired(FragmentKey key, ByteBuf firstFragment);
    }

    /** One datagram's fragments so far, sorted by offset, never overlapping. */
    private static final class Datagram {
        final long deadline;
        final List<Fragment> fragments = new ArrayList<>(4);
        /** The end of the payload once the last fragment came; -1 before. */
        int end = -1;
        int received;
        /** Dropped (overlap or inconsistency): later fragments are dropped too, until the deadline. */
        boolean discarded;

        Datagram(long deadline) {
            this.deadline = deadline;
        }
    }

    private record Fragment(int offset, int end, ByteBuf packet, int dataIndex, int cost) {
    }

    /**
     * @param nanoClock the time in nanoseconds, e.g. {@code System::nanoTime}, or the event
     *     loop's clock, or a test's
     */
    public FragmentReassembler(ByteBufAllocator alloc, ReassemblyLimits limits, LongSupplier nanoClock) {
        this(alloc, limits, nanoClock, new DropCounters());
    }

    /** As above, counting drops into {@code counters} (a handler's, which outlive this reassembler). */
    public FragmentReassembler(ByteBufAllocator alloc, ReassemblyLimits limits, LongSupplier nanoClock,
                               DropCounters counters) {
        this.counters = counters;
        this.alloc = alloc;
        this.limits = limits;
        this.nanoClock = nanoClock;
        this.timeoutNanos = limits.timeout().toNanos();
    }

    public ReassemblyLimits limits() {
        return limits;
    }

    /** Who to tell about datagrams that expire with their first fragment; null (the default) for nobody. */
    public void setExpiryListener(ExpiryListener listener) {
        this.expiryListener = listener;
    }

    /** Fragments and datagrams dropped, by reason. */
    public DropCounters dropCounters() {
        return counters;
    }

    /** Bytes held now (fragments' readable bytes plus a fixed overhead each). */
    public long bytesHeld() {
        return bytesHeld;
    }

    /** Datagrams being reassembled (or remembered as discarded until their timeout). */
    public int pendingDatagrams() {
        return datagrams.size();
    }

    /**
     * Takes one fragment: the {@code packet} (its readable bytes, from the start of its IP header),
     * whose fragment data are {@code dataLength} bytes at {@code dataIndex}, at {@code offset} bytes
     * into the datagram's payload, with more to come or not. Takes over {@code packet}: it is held,
     * or released.
     *
     * @return the whole datagram when this fragment completes it (release it), else null
     */
    public Reassembled offer(FragmentKey key, ByteBuf packet, int dataIndex, int dataLength, int offset,
                             boolean moreFragments) {
        if (closed) {
            packet.release();
            throw new IllegalStateException("the reassembler is closed");
        }
        long now = nanoClock.getAsLong();
        Datagram datagram = datagrams.get(key);
        if (datagram != null && now - datagram.deadline >= 0) {
            expire(now); // it is late: drop it now rather than complete it after its time
            datagram = null;
        }
        int end = offset + dataLength;
        if (datagram != null && datagram.discarded) {
            return refuse(packet, DropReason.FRAGMENT_OVERLAP);
        }
        if (end > MAX_PAYLOAD || (moreFragments && (dataLength & 7) != 0) || dataLength < 0 || offset < 0) {
            return datagram == null ? refuse(packet, DropReason.FRAGMENT_INCONSISTENT)
                    : discard(key, datagram, packet, DropReason.FRAGMENT_INCONSISTENT);
        }
        int cost = packet.readableBytes() + FRAGMENT_OVERHEAD;
        if (bytesHeld + cost > limits.maxBytes()) {
            return refuse(packet, DropReason.REASSEMBLY_LIMIT);
        }
        if (datagram == null) {
            datagram = new Datagram(now + timeoutNanos);
            datagrams.put(key, datagram);
        }
        if (!moreFragments) {
            if (datagram.end >= 0 && datagram.end != end || end < highestEnd(datagram)) {
                return discard(key, datagram, packet, DropReason.FRAGMENT_INCONSISTENT);
            }
            datagram.end = end;
        } else if (datagram.end >= 0 && end > datagram.end) {
            return discard(key, datagram, packet, DropReason.FRAGMENT_INCONSISTENT);
        }
        int at = insertionPoint(datagram, offset);
        Fragment before = at > 0 ? datagram.fragments.get(at - 1) : null;
        Fragment after = at < datagram.fragments.size() ? datagram.fragments.get(at) : null;
        if (after != null && after.offset == offset && after.end == end) {
            return refuse(packet, DropReason.FRAGMENT_DUPLICATE);
        }
        if (before != null && before.end > offset || after != null && after.offset < end) {
            return discard(key, datagram, packet, DropReason.FRAGMENT_OVERLAP);
        }
        if (datagram.fragments.size() == limits.maxFragmentsPerDatagram()) {
            return discard(key, datagram, packet, DropReason.REASSEMBLY_LIMIT);
        }
        datagram.fragments.add(at, new Fragment(offset, end, packet, dataIndex, cost));
        datagram.received += dataLength;
        bytesHeld += cost;
        if (datagram.end >= 0 && datagram.received == datagram.end) {
            datagrams.remove(key);
            return assemble(key, datagram);
        }
        return null;
    }

    /** The earliest deadline of a held datagram ({@code nanoClock} time), or {@link Long#MAX_VALUE} if none. */
    public long nextExpiry() {
        Iterator<Datagram> oldest = datagrams.values().iterator();
        return oldest.hasNext() ? oldest.next().deadline : Long.MAX_VALUE;
    }

    /** Drops the datagrams whose timeout has passed; returns how many (discarded ones not counted again). */
    public int expire() {
        return expire(nanoClock.getAsLong());
    }

    private int expire(long now) {
        int expired = 0;
        List<Map.Entry<FragmentKey, Datagram>> firstFragmentsReceived = null;
        for (Iterator<Map.Entry<FragmentKey, Datagram>> it = datagrams.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<FragmentKey, Datagram> entry = it.next();
            Datagram datagram = entry.getValue();
            if (now - datagram.deadline < 0) {
                break; // deadlines are in creation order
            }
            it.remove();
            if (datagram.discarded) {
                continue;
            }
            counters.increment(DropReason.REASSEMBLY_TIMEOUT);
            expired++;
            if (expiryListener != null && datagram.fragments.get(0).offset == 0) {
                if (firstFragmentsReceived == null) {
                    firstFragmentsReceived = new ArrayList<>(2);
                }
                firstFragmentsReceived.add(entry);
            } else {
                releaseAll(datagram);
            }
        }
        if (firstFragmentsReceived != null) {
            // Told once the map is settled: the listener may write down the pipeline.
            for (Map.Entry<FragmentKey, Datagram> entry : firstFragmentsReceived) {
                try {
                    expiryListener.expired(entry.getKey(), entry.getValue().fragments.get(0).packet);
                } finally {
                    releaseAll(entry.getValue());
                }
            }
        }
        return expired;
    }

    /** Releases everything held; later offers fail. */
    @Override
    public void close() {
        closed = true;
        for (Datagram datagram : datagrams.values()) {
            releaseAll(datagram);
        }
        datagrams.clear();
    }

    private static int highestEnd(Datagram datagram) {
        List<Fragment> fragments = datagram.fragments;
        return fragments.isEmpty() ? 0 : fragments.get(fragments.size() - 1).end;
    }

    /** Index of the first fragment whose offset is at least {@code offset}. */
    private static int insertionPoint(Datagram datagram, int offset) {
        List<Fragment> fragments = datagram.fragments;
        int low = 0;
        int high = fragments.size();
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (fragments.get(mid).offset < offset) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    private Reassembled refuse(ByteBuf packet, DropReason reason) {
        counters.increment(reason);
        packet.release();
        return null;
    }

    /** Drops the whole datagram and the fragment at hand; remembers it as discarded until its deadline. */
    private Reassembled discard(FragmentKey key, Datagram datagram, ByteBuf packet, DropReason reason) {
        counters.increment(reason);
        packet.release();
        releaseAll(datagram);
        datagram.discarded = true;
        return null;
    }

    private void releaseAll(Datagram datagram) {
        for (Fragment fragment : datagram.fragments) {
            bytesHeld -= fragment.cost;
            fragment.packet.release();
        }
        datagram.fragments.clear();
        datagram.received = 0;
    }

    private Reassembled assemble(FragmentKey key, Datagram datagram) {
        List<Fragment> fragments = datagram.fragments;
        CompositeByteBuf payload = alloc.compositeBuffer(fragments.size());
        Fragment first = fragments.get(0);
        // Not retained: the first packet's reference moves into the payload below, which keeps it alive.
        ByteBuf header = first.packet.slice(first.packet.readerIndex(), first.dataIndex - first.packet.readerIndex());
        for (Fragment fragment : fragments) {
            bytesHeld -= fragment.cost;
            // The packet's reference moves into the composite: a slice of it, released with the composite.
            payload.addComponent(true, fragment.packet.slice(fragment.dataIndex, fragment.end - fragment.offset));
        }
        fragments.clear();
        return new Reassembled(key, header, payload);
    }
}
