package org.tuntap.codec.ethernet;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;

/**
 * An Ethernet II frame: addresses, ethertype, an optional VLAN tag, and the payload as
 * {@link #content()}. Inbound from {@link EthernetCodec} (the content is a retained slice of the
 * frame read); written outbound to send a frame.
 */
public final class EthernetFrame extends DefaultByteBufHolder {

    private final long destination;
    private final long source;
    private final int etherType;
    private final int vlanTci;

    /** An untagged frame. */
    public EthernetFrame(MacAddress destination, MacAddress source, int etherType, ByteBuf payload) {
        this(destination.bits(), source.bits(), etherType, EthernetHeader.NO_TAG, payload);
    }

    /**
     * A frame from raw fields: addresses as {@link MacAddress#bits()}, {@code vlanTci} the tag's
     * 16-bit TCI or {@link EthernetHeader#NO_TAG}.
     */
    public EthernetFrame(long destination, long source, int etherType, int vlanTci, ByteBuf payload) {
        super(payload);
        this.destination = destination;
        this.source = source;
        this.etherType = etherType & 0xFFFF;
        this.vlanTci = vlanTci < 0 ? EthernetHeader.NO_TAG : vlanTci & 0xFFFF;
    }

    /**
     * Parses the readable bytes of {@code buf} as an Ethernet II frame (one VLAN tag is seen
     * through). On success the frame holds a retained slice of the payload (release it);
     * {@code buf} is not changed nor released. Fails with {@code TRUNCATED} only.
     */
    public static ParseResult<EthernetFrame> parse(ByteBuf buf) {
        int start = buf.readerIndex();
        int length = buf.readableBytes();
        int headerLength = EthernetHeader.headerLength(buf, start, length);
        if (headerLength < 0) {
            return ParseResult.failed(DropReason.TRUNCATED);
        }
        boolean tagged = headerLength == EthernetHeader.TAGGED_LENGTH;
        return ParseResult.ok(new EthernetFrame(
                EthernetHeader.destination(buf, start), EthernetHeader.source(buf, start),
                buf.getUnsignedShort(start + headerLength - 2),
                tagged ? buf.getUnsignedShort(start + 14) : EthernetHeader.NO_TAG,
                buf.retainedSlice(start + headerLength, length - headerLength)));
    }

    /** The destination address (see {@link #destinationBits()} to avoid the allocation). */
    public MacAddress destination() {
        return MacAddress.of(destination);
    }

    /** The source address (see {@link #sourceBits()} to avoid the allocation). */
    public MacAddress source() {
        return MacAddress.of(source);
    }

    /** The destination as bits (no allocation). */
    public long destinationBits() {
        return destination;
    }

    /** The source as bits (no allocation). */
    public long sourceBits() {
        return source;
    }

    /** The ethertype of the payload (behind the VLAN tag, if any). */
    public int etherType() {
        return etherType;
    }

    /** Whether the frame carries a VLAN tag. */
    public boolean isTagged() {
        return vlanTci != EthernetHeader.NO_TAG;
    }

    /** The tag's TCI (priority, DEI, VLAN id), or {@link EthernetHeader#NO_TAG}. */
    public int vlanTci() {
        return vlanTci;
    }

    /** The VLAN id (low 12 bits of the TCI), or -1 when untagged. */
    public int vlanId() {
        return vlanTci == EthernetHeader.NO_TAG ? -1 : vlanTci & 0x0FFF;
    }

    /** Header length this frame takes on the wire. */
    public int headerLength() {
        return isTagged() ? EthernetHeader.TAGGED_LENGTH : EthernetHeader.LENGTH;
    }

    /** A frame with the same addresses, ethertype and tag over {@code content}. */
    @Override
    public EthernetFrame replace(ByteBuf content) {
        return new EthernetFrame(destination, source, etherType, vlanTci, content);
    }

    /** A frame like this one over a deep copy of the content. */
    @Override
    public EthernetFrame copy() {
        return replace(content().copy());
    }

    /** A frame like this one over a duplicate of the content (shared bytes, own indices, no new reference). */
    @Override
    public EthernetFrame duplicate() {
        return replace(content().duplicate());
    }

    /** A frame like this one over a retained duplicate of the content (release it). */
    @Override
    public EthernetFrame retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    /** Retains the content; returns this. */
    @Override
    public EthernetFrame retain() {
        super.retain();
        return this;
    }

    /** Retains the content {@code increment} times; returns this. */
    @Override
    public EthernetFrame retain(int increment) {
        super.retain(increment);
        return this;
    }

    /** Records this access to the content for the leak detector; returns this. */
    @Override
    public EthernetFrame touch() {
        super.touch();
        return this;
    }

    /** Records this access to the content, with a hint, for the leak detector; returns this. */
    @Override
    public EthernetFrame touch(Object hint) {
        super.touch(hint);
        return this;
    }

    /** Addresses, ethertype, VLAN and payload length, for logs. */
    @Override
    public String toString() {
        return "EthernetFrame(" + source() + " -> " + destination() + ", type=0x" + Integer.toHexString(etherType)
                + (isTagged() ? ", vlan=" + vlanId() : "") + ", " + content().readableBytes() + " bytes)";
    }
}
