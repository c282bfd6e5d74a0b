package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import org.tuntap.codec.DropReason;

/**
 * Walks the extension header chain of an IPv6 packet to the upper-layer protocol, within
 * limits, and remembers where things are. Mutable and reusable: a codec keeps one and walks
 * every packet with it, allocating nothing.
 *
 * <p>Rules (RFC 8200 section 4): hop-by-hop options only first; at most one fragment header;
 * a fragment of non-zero offset ends the walk (what follows its header is fragment data, whose
 * first byte is of type {@link #upperLayerProtocol()}); a fragment with more to come carries a
 * multiple of 8 bytes; the reassembled payload fits 65535 bytes. Anything not an extension
 * header this walker knows (see {@link Ipv6ExtensionHeader#isWalked}) is the upper-layer
 * protocol. Limits: at most {@link #maxHeaders()} extension headers and
 * {@link #maxBytes()} bytes of them, or the packet is refused with
 * {@link DropReason#EXTENSION_LIMIT}: a packet of many tiny headers costs a loop iteration each.
 */
public final class Ipv6ExtensionWalker {

    /** Default limit on extension headers per packet (Linux allows 8 options per options header). */
    public static final int DEFAULT_MAX_HEADERS = 8;
    /** Default limit on the bytes of extension headers per packet. */
    public static final int DEFAULT_MAX_BYTES = 2048;

    private final int maxHeaders;
    private final int maxBytes;

    private int upperLayerProtocol;
    private int upperLayerOffset;
    private int fragmentHeaderOffset;
    private int headerCount;

    public Ipv6ExtensionWalker() {
        this(DEFAULT_MAX_HEADERS, DEFAULT_MAX_BYTES);
    }

    public Ipv6ExtensionWalker(int maxHeaders, int maxBytes) {
        if (maxHeaders < 0 || maxBytes < 0) {
            throw new IllegalArgumentException("limits must not be negative: " + maxHeaders + ", " + maxBytes);
        }
        this.maxHeaders = maxHeaders;
        this.maxBytes = maxBytes;
    }

    public int maxHeaders() {
        return maxHeaders;
    }

    public int maxBytes() {
        return maxBytes;
    }

    /**
     * Walks the packet at {@code index}, whose fixed header {@link Ipv6Header#check} accepted.
     * On success the accessors describe it.
     *
     * @return null if the chain is well formed and within the limits, else why not
     */
    public DropReason walk(ByteBuf buf, int index) {
        int payloadStart = index + Ipv6Header.LENGTH;
        int end = payloadStart + Ipv6Header.payloadLength(buf, index);
        int next = Ipv6Header.nextHeader(buf, index);
        int at = payloadStart;
        int count = 0;
        int fragment = -1;
        while (Ipv6ExtensionHeader.isWalked(next)) {
            if (next == Ipv6Header.HOP_BY_HOP && count != 0) {
                return DropReason.BAD_EXTENSION_HEADER;
            }
            if (count == maxHeaders) {
                return DropReason.EXTENSION_LIMIT;
            }
            if (end - at < Ipv6ExtensionHeader.MIN_LENGTH) {
                return DropReason.TRUNCATED;
            }
            int length = Ipv6ExtensionHeader.length(buf, at, next);
            if (length > end - at) {
                return DropReason.TRUNCATED;
            }
            if (at + length - payloadStart > maxBytes) {
                return DropReason.EXTENSION_LIMIT;
            }
            count++;
            int following = Ipv6ExtensionHeader.nextHeader(buf, at);
            if (next == Ipv6Header.FRAGMENT) {
                if (fragment >= 0) {
                    return DropReason.BAD_EXTENSION_HEADER;
                }
                fragment = at;
                int offsetBytes = Ipv6ExtensionHeader.fragmentOffset(buf, at) << 3;
                int dataLength = end - at - length;
                if (Ipv6ExtensionHeader.moreFragments(buf, at) && (dataLength & 7) != 0) {
                    return DropReason.BAD_EXTENSION_HEADER;
                }
                if (at - payloadStart + offsetBytes + dataLength > Ipv6Header.MAX_PAYLOAD_LENGTH) {
                    return DropReason.BAD_EXTENSION_HEADER;
                }
                if (offsetBytes != 0) {
                    at += length;
                    next = following;
                    break;
                }
            }
            at += length;
            next = following;
        }
        upperLayerProtocol = next;
        upperLayerOffset = at - index;
        fragmentHeaderOffset = fragment < 0 ? -1 : fragment - index;
        headerCount = count;
        return null;
    }

    /** The protocol after the last extension header walked (17 UDP, 58 ICMPv6, 59 nothing, ...). */
    public int upperLayerProtocol() {
        return upperLayerProtocol;
    }

    /** Where the upper-layer data starts, counted from the start of the packet. */
    public int upperLayerOffset() {
        return upperLayerOffset;
    }

    /** Where the fragment header starts, counted from the start of the packet; -1 if there is none. */
    public int fragmentHeaderOffset() {
        return fragmentHeaderOffset;
    }

    /** Extension headers walked. */
    public int headerCount() {
        return headerCount;
    }
}
