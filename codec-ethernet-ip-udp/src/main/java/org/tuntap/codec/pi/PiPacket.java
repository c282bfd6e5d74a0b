package org.tuntap.codec.pi;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;
import org.tuntap.codec.DropReason;
import org.tuntap.codec.ParseResult;

/**
 * A packet with its PI header taken apart: {@link #content()} is the packet after the header
 * (an IP packet on TUN, an Ethernet frame on TAP), {@link #flags()} and {@link #proto()} the
 * header's fields. Inbound from {@link PiCodec}; written outbound to choose the header fields.
 */
public final class PiPacket extends DefaultByteBufHolder {

    private final int flags;
    private final int proto;

    /** A packet with these header fields (each cut to 16 bits); releasing it releases {@code content}. */
    public PiPacket(int flags, int proto, ByteBuf content) {
        super(content);
        this.flags = flags & 0xFFFF;
        this.proto = proto & 0xFFFF;
    }

    /**
     * Parses the readable bytes of {@code buf} as a PI header and packet. On success the
     * packet holds a retained slice after the header (release it); {@code buf} is not changed
     * nor released. Fails with {@code TRUNCATED} when shorter than the header.
     */
    public static ParseResult<PiPacket> parse(ByteBuf buf) {
        int start = buf.readerIndex();
        if (buf.readableBytes() < PiHeader.LENGTH) {
            return ParseResult.failed(DropReason.TRUNCATED);
        }
        return ParseResult.ok(new PiPacket(PiHeader.flags(buf, start), PiHeader.proto(buf, start),
                buf.retainedSlice(start + PiHeader.LENGTH, buf.readableBytes() - PiHeader.LENGTH)));
    }

    /** The header's flags (see {@link PiHeader#TUN_PKT_STRIP}). */
    public int flags() {
        return flags;
    }

    /** True when the kernel cut this packet to fit the read buffer. */
    public boolean isTruncated() {
        return (flags & PiHeader.TUN_PKT_STRIP) != 0;
    }

    /** The header's protocol: the ethertype of the packet (0x0800 IPv4, 0x86DD IPv6, ...). */
    public int proto() {
        return proto;
    }

    /** A packet with the same header fields over {@code content}. */
    @Override
    public PiPacket replace(ByteBuf content) {
        return new PiPacket(flags, proto, content);
    }

    /** A packet like this one over a deep copy of the content. */
    @Override
    public PiPacket copy() {
        return replace(content().copy());
    }

    /** A packet like this one over a duplicate of the content (shared bytes, own indices, no new reference). */
    @Override
    public PiPacket duplicate() {
        return replace(content().duplicate());
    }

    /** A packet like this one over a retained duplicate of the content (release it). */
    @Override
    public PiPacket retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    /** Retains the content; returns this. */
    @Override
    public PiPacket retain() {
        super.retain();
        return this;
    }

    /** Retains the content {@code increment} times; returns this. */
    @Override
    public PiPacket retain(int increment) {
        super.retain(increment);
        return this;
    }

    /** Records this access to the content for the leak detector; returns this. */
    @Override
    public PiPacket touch() {
        super.touch();
        return this;
    }

    /** Records this access to the content, with a hint, for the leak detector; returns this. */
    @Override
    public PiPacket touch(Object hint) {
        super.touch(hint);
        return this;
    }

    /** The header fields and the content's length, for logs. */
    @Override
    public String toString() {
        return "PiPacket(flags=0x" + Integer.toHexString(flags) + ", proto=0x" + Integer.toHexString(proto)
                + ", " + content().readableBytes() + " bytes)";
    }
}
