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

    public int version() {
        return Ipv4Header.version(content(), at());
    }

    public int headerLength() {
        return Ipv4Header.headerLength(content(), at());
    }

    public int dscp() {
        return Ipv4Header.dscp(content(), at());
    }

    public int ecn() {
        return Ipv4Header.ecn(content(), at());
    }

    public int totalLength() {
        return Ipv4Header.totalLength(content(), at());
    }

    public int identification() {
        return Ipv4Header.identification(content(), at());
    }

    /** The three flag bits (reserved, DF, MF) as a number 0..7. */
    public int flags() {
        return Ipv4Header.flags(content(), at());
    }

    public boolean dontFragment() {
        return Ipv4Header.dontFragment(content(), at());
    }

    public boolean moreFragments() {
        return Ipv4Header.moreFragments(content(), at());
    }

    /** Fragment offset in units of 8 bytes. */
    public int fragmentOffset() {
        return Ipv4Header.fragmentOffset(content(), at());
    }

    public boolean isFragment() {
        return Ipv4Header.isFragment(content(), at());
    }

    public int ttl() {
        return Ipv4Header.ttl(content(), at());
    }

    public int protocol() {
        return Ipv4Header.protocol(content(), at());
    }

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

    public Inet4Address source() {
        return Ipv4Addresses.toInet(sourceInt());
    }

    public Inet4Address destination() {
        return Ipv4Addresses.toInet(destinationInt());
    }

    /** Index in {@link #content()} where the payload starts. */
    public int payloadIndex() {
        return at() + headerLength();
    }

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

    @Override
    public Ipv4Packet replace(ByteBuf content) {
        return new Ipv4Packet(content);
    }

    @Override
    public Ipv4Packet copy() {
        return replace(content().copy());
    }

    @Override
    public Ipv4Packet duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public Ipv4Packet retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public Ipv4Packet retain() {
        super.retain();
        return this;
    }

    @Override
    public Ipv4Packet retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public Ipv4Packet touch() {
        super.touch();
        return this;
    }

    @Override
    public Ipv4Packet touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        if (refCnt() == 0) {
            return "Ipv4Packet(released)";
        }
        return "Ipv4Packet(" + Ipv4Addresses.toString(sourceInt()) + " -> " + Ipv4Addresses.toString(destinationInt())
                + ", protocol=" + protocol() + ", ttl=" + ttl() + ", id=" + identification() + ", " + totalLength() + " bytes)";
    }
}
