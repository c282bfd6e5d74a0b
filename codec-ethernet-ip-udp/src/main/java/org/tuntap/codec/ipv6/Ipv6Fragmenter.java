package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.EncoderException;
import io.netty.util.ReferenceCountUtil;
import org.tuntap.codec.buffer.Headroom;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts an IPv6 packet into fragments that fit an MTU, as a source does (RFC 8200 section 4.5):
 * the unfragmentable part (the fixed header and the extension headers up to and including the
 * routing header, else the hop-by-hop header, else none) is repeated in every fragment, followed
 * by a fragment header (identification shared by the datagram's fragments, offset in 8-byte
 * units, M set on all but the last) and a piece of the fragmentable part, a multiple of 8 bytes
 * in all but the last fragment. The reassembled packet is the original, byte for byte.
 *
 * <p>No data is copied: each fragment is a {@link Headroom} composite, a fresh header buffer (with
 * spare room in front for the layers below) followed by a retained slice of the packet.
 */
public final class Ipv6Fragmenter {

    /** The smallest MTU IPv6 allows (RFC 8200 section 5). */
    public static final int MIN_MTU = 1280;

    private Ipv6Fragmenter() {
    }

    /**
     * The fragments of the IPv6 packet in {@code packet}'s readable bytes (its payload length taken
     * as its length), each at most {@code mtu} bytes, with this identification. {@code packet} is
     * neither released nor changed; each fragment holds references of its own (release them all).
     *
     * @throws EncoderException if the packet already has a fragment header, its extension headers
     *     run past it, or they leave no room for 8 bytes of data within the MTU
     * @throws IllegalArgumentException if {@code mtu} is below {@link #MIN_MTU}
     */
    public static List<ByteBuf> fragment(ByteBufAllocator alloc, ByteBuf packet, int mtu, int identification) {
        if (mtu < MIN_MTU) {
            throw new IllegalArgumentException("an IPv6 MTU is at least " + MIN_MTU + ": " + mtu);
        }
        int start = packet.readerIndex();
        int end = start + Ipv6Header.LENGTH + Ipv6Header.payloadLength(packet, start);
        // Walk to the end of the unfragmentable part: the next-header field naming the first
        // fragmentable header, and where that header starts.
        int field = start + 6;
        int fragmentable = start + Ipv6Header.LENGTH;
        int type = packet.getUnsignedByte(field);
        int at = fragmentable;
        while (type == Ipv6Header.HOP_BY_HOP || type == Ipv6Header.ROUTING || type == Ipv6Header.DESTINATION_OPTIONS) {
            if (at + 2 > end || at + Ipv6ExtensionHeader.length(packet, at, type) > end) {
                throw new EncoderException("IPv6 extension header at byte " + (at - start) + " runs past the packet");
            }
            int length = Ipv6ExtensionHeader.length(packet, at, type);
            if (type != Ipv6Header.DESTINATION_OPTIONS) { // destination options before a routing header go with it
                field = at;
                fragmentable = at + length;
            }
            type = Ipv6ExtensionHeader.nextHeader(packet, at);
            at += length;
        }
        if (type == Ipv6Header.FRAGMENT) {
            throw new EncoderException("IPv6 packet already has a fragment header: not fragmented again");
        }
        int unfragmentable = fragmentable - start;
        int headerLength = unfragmentable + Ipv6ExtensionHeader.FRAGMENT_LENGTH;
        int perFragment = (mtu - headerLength) & ~7;
        if (perFragment < 8) {
            throw new EncoderException("IPv6 headers of " + unfragmentable + " bytes leave no room for fragment data"
                    + " within the MTU of " + mtu);
        }
        int firstFragmentableHeader = packet.getUnsignedByte(field);
        int dataLength = end - fragmentable;

        List<ByteBuf> fragments = new ArrayList<>(dataLength / perFragment + 1);
        try {
            for (int offset = 0; offset < dataLength; offset += perFragment) {
                int length = Math.min(perFragment, dataLength - offset);
                ByteBuf fragment = Headroom.prepend(alloc, packet.slice(fragmentable + offset, length), headerLength);
                fragments.add(fragment);
                ByteBuf header = Headroom.headerBuffer(fragment);
                int index = fragment.readerIndex();
                header.setBytes(index, packet, start, unfragmentable);
                header.setShort(index + 4, headerLength - Ipv6Header.LENGTH + length);
                header.setByte(index + (field - start), Ipv6Header.FRAGMENT);
                Ipv6ExtensionHeader.setFragment(header, index + unfragmentable, firstFragmentableHeader, offset >>> 3,
                        offset + length < dataLength, identification);
            }
            return fragments;
        } catch (Throwable t) {
            for (ByteBuf fragment : fragments) {
                ReferenceCountUtil.safeRelease(fragment);
            }
            throw t;
        }
    }
}
