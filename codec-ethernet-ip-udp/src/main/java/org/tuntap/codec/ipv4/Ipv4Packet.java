package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;

import java.net.Inet4Address;

/**
 * A validated IPv4 packet: {@link #content()} is the whole packet, header and payload, trimmed
 * to its total length (link-layer padding removed). Every header field is read in place.
 * Inbound from {@link Ipv4Codec}, which has checked it with {@link Ipv4Header#check}; written
 * outbound, it is sent as it is.
 */
public final class Ipv4Packet extends DefaultByteBufHolder {

    /**
     * Wraps a packet already validated with {@link Ipv4Header#check} whose readable bytes are
     * exactly the packet (use {@link #parse} for unchecked input).
     */
    public Ipv4Packet(ByteBuf packet) {
        super(packet);
    }

    /**
     * Validates the readable bytes of {@code buf} as an IPv4 packet and, if valid, returns it
     * holding a retained slice of exactly the packet (release it). {@code buf} is not changed
     * nor released.
     */
    public static ParseResult<Ipv4Packet> parse(ByteBuf buf, boolean verifyChecksum) {
        int start = buf.readerIndex();
        DropReason problem = Ipv4Header.check(buf, start, buf.readableBytes(), verifyChecksum);
        if (problem != null) {
            return ParseResult.failed(problem);
        }
        return ParseResult.ok(new Ipv4Packet(buf.retainedSlice(start, Ipv4Header.totalLength(buf, start))));
    }

    private int at() {
        return content().readerIndex();
    }

    /** The version field: 4 for a checked packet. */
    public int version() {
        return Ipv4Header.version(content(), at());
    }

    /** Header length in bytes, options included (IHL * 4). */
    public int headerLength() {
        return Ipv4Header.headerLength(content(), at());
    }

    /** Differentiated services code point, 0..63. */
    public int dscp() {
        return Ipv4Header.dscp(content(), at());
    }

    /** Explicit congestion notification bits, 0..3. */
    public int ecn() {
        return Ipv4Header.ecn(content(), at());
    }

    /** Header plus payload, in bytes. */
    public int totalLength() {
        return Ipv4Header.totalLength(content(), at());
    }

    /** The identification field, shared by a datagram's fragments. */
    public int identification() {
        return Ipv4Header.identification(content(), at());
    }

    /** The three flag bits (reserved, DF, MF) as a number 0..7. */
    public int flags() {
        return Ipv4Header.flags(content(), at());
    }

    /** The DF flag: routers must not fragment this packet. */
    public boolean dontFragment() {
        return Ipv4Header.dontFragment(content(), at());
    }

    /** The MF flag: more fragments of this datagram follow. */
    public boolean moreFragments() {
        return Ipv4Header.moreFragments(content(), at());
    }

    /** Fragment offset in units of 8 bytes. */
    public int fragmentOffset() {
        return Ipv4Header.fragmentOffset(content(), at());
    }

    /** True for any fragment (MF set or non-zero offset); {@link Ipv4Codec} drops those inbound. */
    public boolean isFragment() {
        return Ipv4Header.isFragment(content(), at());
    }

    /** Time to live. */
    public int ttl() {
        return Ipv4Header.ttl(content(), at());
    }

    /** The payload's protocol number (17 for UDP). */
    public int protocol() {
        return Ipv4Header.protocol(content(), at());
    }

    /** The header checksum field as it is in the packet. */
    public int headerChecksum() {
        return Ipv4Header.headerChecksum(content(), at());
    }

    /** Source address as a big-endian int (no allocation). */
    public int sourceInt() {
        return Ipv4Header.source(content(), at());
    }

    /** Destination address as a big-endian int (no allocation). */
    public int destinationInt() {
        return Ipv4Header.destination(content(), at());
    }

    /** The source address, a new object per call (see {@link #sourceInt()}). */
    public Inet4Address source() {
        return Ipv4Addresses.toInet(sourceInt());
    }

    /** The destination address, a new object per call (see {@link #destinationInt()}). */
    public Inet4Address destination() {
        return Ipv4Addresses.toInet(destinationInt());
    }

    /** Index in {@link #content()} where the payload starts. */
    public int payloadIndex() {
        return at() + headerLength();
    }

    /** Payload length in bytes: the total length less the header's. */
    public int payloadLength() {
        return totalLength() - headerLength();
    }

    /** The options (empty when IHL is 5): a slice valid while this packet is; retain it to keep it. */
    public ByteBuf options() {
        return content().slice(at() + Ipv4Header.MIN_LENGTH, headerLength() - Ipv4Header.MIN_LENGTH);
    }

    /** The payload: a slice valid while this packet is; retain it to keep it. */
    public ByteBuf payload() {
        return content().slice(payloadIndex(), payloadLength());
    }

    /** A packet over {@code content}, which must be exactly a checked IPv4 packet too. */
    @Override
    public Ipv4Packet replace(ByteBuf content) {
        return new Ipv4Packet(content);
    }

    /** A packet like this one over a deep copy of the content. */
    @Override
    public Ipv4Packet copy() {
        return replace(content().copy());
    }

    /** A packet like this one over a duplicate of the content (shared bytes, own indices, no new reference). */
    @Override
    public Ipv4Packet duplicate() {
        return replace(content().duplicate());
    }

    /** A packet like this one over a retained duplicate of the content (release it). */
    @Override
    public Ipv4Packet retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    /** Retains the content; returns this. */
    @Override
    public Ipv4Packet retain() {
        super.retain();
        return this;
    }

    /** Retains the content {@code increment} times; returns this. */
    @Override
    public Ipv4Packet retain(int increment) {
        super.retain(increment);
        return this;
    }

    /** Records this access to the content for the leak detector; returns this. */
    @Override
    public Ipv4Packet touch() {
        super.touch();
        return this;
    }

    /** Records this access to the content, with a hint, for the leak detector; returns this. */
    @Override
    public Ipv4Packet touch(Object hint) {
        super.touch(hint);
        return this;
    }

    /** Addresses, protocol, TTL, identification and length, for logs; safe after release. */
    @Override
    public String toString() {
        if (refCnt() == 0) {
            return "Ipv4Packet(released)";
        }
        return "Ipv4Packet(" + Ipv4Addresses.toString(sourceInt()) + " -> " + Ipv4Addresses.toString(destinationInt())
                + ", protocol=" + protocol() + ", ttl=" + ttl() + ", id=" + identification() + ", " + totalLength() + " bytes)";
    }
}
