package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.ReferenceCountUtil;
import org.tuntap.codec.buffer.Headroom;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts an IPv4 packet into fragments that fit an MTU (RFC 791, "Fragmentation and Reassembly"):
 * every fragment but the last carries a multiple of 8 data bytes; the first keeps the whole
 * header, options included; the others keep only the options whose copied flag is set (RFC 791
 * section 3.1), padded to a 4-byte boundary with End-of-Options. Identification, addresses,
 * TTL and DSCP stay; total length, more-fragments, offset and checksum are each fragment's own.
 * A packet that is already a fragment is cut the same way, its offset added and its
 * more-fragments flag kept on the last piece.
 *
 * <p>No data is copied: each fragment is a {@link Headroom} composite, a fresh header buffer (with
 * spare room in front for the layers below) followed by a retained slice of the packet's data.
 * The caller checks DF first; this class does not refuse.
 */
public final class Ipv4Fragmenter {

    /** The smallest MTU IPv4 allows (RFC 791: a 60-byte header and 8 bytes of data pass unfragmented). */
    public static final int MIN_MTU = 68;

    private static final int OPTION_END = 0;
    private static final int OPTION_NOP = 1;
    private static final int OPTION_COPIED = 0x80;

    private Ipv4Fragmenter() {
    }

    /**
     * The fragments of the IPv4 packet in {@code packet}'s readable bytes (a checked packet, say
     * one {@link Ipv4Codec} built; its total length is taken as its length), each at most
     * {@code mtu} bytes. {@code packet} is neither released nor changed; each fragment holds
     * references of its own (release them all).
     *
     * @param computeChecksum whether to compute each fragment's header checksum, or leave it 0
     * @throws IllegalArgumentException if {@code mtu} is below {@link #MIN_MTU}
     */
    public static List<ByteBuf> fragment(ByteBufAllocator alloc, ByteBuf packet, int mtu, boolean computeChecksum) {
        if (mtu < MIN_MTU) {
            throw new IllegalArgumentException("an IPv4 MTU is at least " + MIN_MTU + ": " + mtu);
        }
        int start = packet.readerIndex();
        int headerLength = Ipv4Header.headerLength(packet, start);
        int dataLength = Ipv4Header.totalLength(packet, start) - headerLength;
        int laterHeaderLength = Ipv4Header.MIN_LENGTH
                + roundUp4(copyOptions(packet, start + Ipv4Header.MIN_LENGTH, headerLength - Ipv4Header.MIN_LENGTH, null, 0));
        int firstOffset = Ipv4Header.fragmentOffset(packet, start) << 3;
        boolean lastMoreFragments = Ipv4Header.moreFragments(packet, start);

        List<ByteBuf> fragments = new ArrayList<>(dataLength / ((mtu - headerLength) & ~7) + 1);
        try {
            int offset = 0;
            do {
                boolean first = offset == 0;
                int fragmentHeaderLength = first ? headerLength : laterHeaderLength;
                int length = Math.min((mtu - fragmentHeaderLength) & ~7, dataLength - offset);
                boolean more = offset + length < dataLength || lastMoreFragments;
                ByteBuf fragment = Headroom.prepend(alloc,
                        packet.slice(start + headerLength + offset, length), fragmentHeaderLength);
                fragments.add(fragment);
                ByteBuf header = Headroom.headerBuffer(fragment);
                int at = fragment.readerIndex();
                if (first) {
                    header.setBytes(at, packet, start, headerLength);
                } else {
                    header.setBytes(at, packet, start, Ipv4Header.MIN_LENGTH);
                    header.setByte(at, 0x40 | (laterHeaderLength >>> 2));
                    int copied = copyOptions(packet, start + Ipv4Header.MIN_LENGTH, headerLength - Ipv4Header.MIN_LENGTH,
                            header, at + Ipv4Header.MIN_LENGTH);
                    header.setZero(at + Ipv4Header.MIN_LENGTH + copied, laterHeaderLength - Ipv4Header.MIN_LENGTH - copied);
                }
                Ipv4Header.setTotalLength(header, at, fragmentHeaderLength + length);
                Ipv4Header.setFragment(header, at, more, (firstOffset + offset) >>> 3);
                if (computeChecksum) {
                    Ipv4Header.updateChecksum(header, at);
                } else {
                    header.setShort(at + 10, 0);
                }
                offset += length;
            } while (offset < dataLength);
            return fragments;
        } catch (Throwable t) {
            for (ByteBuf fragment : fragments) {
                ReferenceCountUtil.safeRelease(fragment);
            }
            throw t;
        }
    }

    /**
     * Copies the options at {@code index} ({@code length} bytes) whose copied flag is set to
     * {@code to} at {@code toIndex}, or only counts them when {@code to} is null; returns their
     * length before padding. The walk stops at End-of-Options or at a malformed option (a length
     * below 2 or beyond the options): what follows is not copied.
     */
    static int copyOptions(ByteBuf buf, int index, int length, ByteBuf to, int toIndex) {
        int copied = 0;
        int end = index + length;
        for (int at = index; at < end; ) {
            int type = buf.getUnsignedByte(at);
            if (type == OPTION_END) {
                break;
            }
            if (type == OPTION_NOP) {
                at++;
                continue;
            }
            int optionLength = at + 1 < end ? buf.getUnsignedByte(at + 1) : 0;
            if (optionLength < 2 || at + optionLength > end) {
                break;
            }
            if ((type & OPTION_COPIED) != 0) {
                if (to != null) {
                    to.setBytes(toIndex + copied, buf, at, optionLength);
                }
                copied += optionLength;
            }
            at += optionLength;
        }
        return copied;
    }

    private static int roundUp4(int length) {
        return (length + 3) & ~3;
    }
}
