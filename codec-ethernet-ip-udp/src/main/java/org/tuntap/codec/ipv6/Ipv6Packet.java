package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;
import org.tuntap.codec.checksum.InternetChecksum;

import java.net.Inet6Address;

/**
 * A validated IPv6 packet: {@link #content()} is the whole packet, fixed header, extension
 * headers and upper-layer data, trimmed to its payload length (link-layer padding removed).
 * The fixed fields are read in place; the walk of the extension headers is kept: the
 * upper-layer protocol and where its data starts, and the fragment header if there is one.
 * Inbound from {@link Ipv6Codec}; written outbound, it is sent as it is.
 */
public final class Ipv6Packet extends DefaultByteBufHolder {

    private final int upperLayerProtocol;
    private final int upperLayerOffset;
    private final int fragmentHeaderOffset;

    /**
     * Wraps a packet whose readable bytes are exactly the packet, checked with
     * {@link Ipv6Header#check} and walked with {@code walker}, whose results this takes (use
     * {@link #parse} for unchecked input).
     */
    public Ipv6Packet(ByteBuf packet, Ipv6ExtensionWalker walker) {
        this(packet, walker.upperLayerProtocol(), walker.upperLayerOffset(), walker.fragmentHeaderOffset());
    }

    private Ipv6Packet(ByteBuf packet, int upperLayerProtocol, int upperLayerOffset, int fragmentHeaderOffset) {
        super(packet);
        this.upperLayerProtocol = upperLayerProtocol;
        this.upperLayerOffset = upperLayerOffset;
        this.fragmentHeaderOffset = fragmentHeaderOffset;
    }

    /**
     * Validates the readable bytes of {@code buf} as an IPv6 packet (fixed header and extension
     * chain, with the default limits) and, if valid, returns it holding a retained slice of
     * exactly the packet (release it). {@code buf} is not changed nor released.
     */
    public static ParseResult<Ipv6Packet> parse(ByteBuf buf) {
        return parse(buf, new Ipv6ExtensionWalker());
    }

    /** {@link #parse(ByteBuf)} with the limits of {@code walker}. */
    public static ParseResult<Ipv6Packet> parse(ByteBuf buf, Ipv6ExtensionWalker walker) {
        int start = buf.readerIndex();
        DropReason problem = Ipv6Header.check(buf, start, buf.readableBytes());
        if (problem == null) {
            problem = walker.walk(buf, start);
        }
        if (problem != null) {
            return ParseResult.failed(problem);
        }
        return ParseResult.ok(new Ipv6Packet(buf.retainedSlice(start, Ipv6Header.LENGTH + Ipv6Header.payloadLength(buf, start)), walker));
    }

    private int at() {
        return content().readerIndex();
    }

    public int version() {
        return Ipv6Header.version(content(), at());
    }

    public int trafficClass() {
        return Ipv6Header.trafficClass(content(), at());
    }

    public int dscp() {
        return Ipv6Header.dscp(content(), at());
    }

    public int ecn() {
        return Ipv6Header.ecn(content(), at());
    }

    public int flowLabel() {
        return Ipv6Header.flowLabel(content(), at());
    }

    /** Bytes after the fixed header (extension headers and upper-layer data). */
    public int payloadLength() {
        return Ipv6Header.payloadLength(content(), at());
    }

    /** The fixed header's next header: the first extension header, or the upper-layer protocol. */
    public int nextHeader() {
        return Ipv6Header.nextHeader(content(), at());
    }

    public int hopLimit() {
        return Ipv6Header.hopLimit(content(), at());
    }

    public long sourceHigh() {
        return Ipv6Header.sourceHigh(content(), at());
    }

    public long sourceLow() {
        return Ipv6Header.sourceLow(content(), at());
    }

    public long destinationHigh() {
        return Ipv6Header.destinationHigh(content(), at());
    }

    public long destinationLow() {
        return Ipv6Header.destinationLow(content(), at());
    }

    public Inet6Address source() {
        return Ipv6Header.source(content(), at());
    }

    public Inet6Address destination() {
        return Ipv6Header.destination(content(), at());
    }

    /**
     * The protocol of the upper-layer data (17 UDP, 58 ICMPv6, 59 none, ...), after the extension
     * headers. For a fragment of non-zero offset, the type of the fragment header's next header,
     * whose bytes start in another fragment.
     */
    public int upperLayerProtocol() {
        return upperLayerProtocol;
    }

    /** Index in {@link #content()} where the upper-layer data starts. */
    public int upperLayerIndex() {
        return at() + upperLayerOffset;
    }

    /** Bytes of upper-layer data (after all extension headers). */
    public int upperLayerLength() {
        return Ipv6Header.LENGTH + payloadLength() - upperLayerOffset;
    }

    /** The upper-layer data: a slice valid while this packet is; retain it to keep it. */
    public ByteBuf upperLayerPayload() {
        return content().slice(upperLayerIndex(), upperLayerLength());
    }

    /**
     * The partial sum of the pseudo-header for this packet's upper-layer protocol and
     * {@code upperLayerLength} (the UDP length field, or {@link #upperLayerLength()}), for
     * {@link InternetChecksum}.
     */
    public long pseudoHeaderSum(int upperLayerLength) {
        return InternetChecksum.pseudoHeaderSumIpv6(content(), at(), upperLayerProtocol, upperLayerLength);
    }

    /** Whether the packet has a fragment header (an atomic fragment, RFC 6946, has one too). */
    public boolean hasFragmentHeader() {
        return fragmentHeaderOffset >= 0;
    }

    /** Index in {@link #content()} of the fragment header; -1 if there is none. */
    public int fragmentHeaderIndex() {
        return fragmentHeaderOffset < 0 ? -1 : at() + fragmentHeaderOffset;
    }

    /** True for a fragment of a fragmented datagram (M set or non-zero offset), false for an atomic fragment. */
    public boolean isFragment() {
        return hasFragmentHeader() && (moreFragments() || fragmentOffset() != 0);
    }

    /** Fragment offset in 8-byte units; 0 without a fragment header. */
    public int fragmentOffset() {
        return hasFragmentHeader() ? Ipv6ExtensionHeader.fragmentOffset(content(), fragmentHeaderIndex()) : 0;
    }

    /** The M flag; false without a fragment header. */
    public boolean moreFragments() {
        return hasFragmentHeader() && Ipv6ExtensionHeader.moreFragments(content(), fragmentHeaderIndex());
    }

    /** The fragment identification; 0 without a fragment header. */
    public int fragmentIdentification() {
        return hasFragmentHeader() ? Ipv6ExtensionHeader.fragmentIdentification(content(), fragmentHeaderIndex()) : 0;
    }

    @Override
    public Ipv6Packet replace(ByteBuf content) {
        return new Ipv6Packet(content, upperLayerProtocol, upperLayerOffset, fragmentHeaderOffset);
    }

    @Override
    public Ipv6Packet copy() {
        return replace(content().copy());
    }

    @Override
    public Ipv6Packet duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public Ipv6Packet retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public Ipv6Packet retain() {
        super.retain();
        return this;
    }

    @Override
    public Ipv6Packet retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public Ipv6Packet touch() {
        super.touch();
        return this;
    }

    @Override
    public Ipv6Packet touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        if (refCnt() == 0) {
            return "Ipv6Packet(released)";
        }
        return "Ipv6Packet(" + Ipv6Addresses.toString(sourceHigh(), sourceLow()) + " -> "
                + Ipv6Addresses.toString(destinationHigh(), destinationLow()) + ", upperLayerProtocol=" + upperLayerProtocol
                + ", hopLimit=" + hopLimit() + (hasFragmentHeader() ? ", fragment offset " + fragmentOffset() + (moreFragments() ? " +" : "") : "")
                + ", " + (Ipv6Header.LENGTH + payloadLength()) + " bytes)";
    }
}
