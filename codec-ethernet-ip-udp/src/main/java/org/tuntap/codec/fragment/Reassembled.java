package org.tuntap.codec.fragment;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A datagram put back together by {@link FragmentReassembler}: {@link #content()} is its
 * payload, the fragments' data in order (a composite of their buffers, nothing copied), and
 * {@link #header()} the headers of its first fragment (offset 0), from which the caller builds
 * the whole packet. Release it (the payload; the header goes with it).
 */
public final class Reassembled extends DefaultByteBufHolder {

    private final FragmentKey key;
    private final ByteBuf header;

    Reassembled(FragmentKey key, ByteBuf header, ByteBuf payload) {
        super(payload);
        this.key = key;
        this.header = header;
    }

    public FragmentKey key() {
        return key;
    }

    /**
     * The first fragment's bytes before its data (IPv4 header; IPv6 header, the unfragmentable
     * extension headers and the fragment header). It lives in the first fragment's buffer, which the
     * payload holds: valid while the payload is (retain that, or copy this, to keep it).
     */
    public ByteBuf header() {
        return header;
    }

    /** The same datagram with another payload; its {@link #header()} still lives in this one's payload. */
    @Override
    public Reassembled replace(ByteBuf content) {
        return new Reassembled(key, header, content);
    }

    @Override
    public Reassembled retain() {
        super.retain();
        return this;
    }

    @Override
    public Reassembled retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public Reassembled touch() {
        super.touch();
        return this;
    }

    @Override
    public Reassembled touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Reassembled(" + key + ", " + content().readableBytes() + " bytes)";
    }
}
