package org.tuntap.codec.ipv6;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.net.Inet6Address;

/**
 * An outbound request to the IPv6 layer: send {@link #content()} (extension headers, if any,
 * then a transport segment, e.g. a UDP header and payload) from {@link #source} to
 * {@link #destination} with this next header. {@link Ipv6Codec} puts the fixed header in front;
 * hop limit, traffic class and flow label come from the codec's settings.
 */
public final class Ipv6Datagram extends DefaultByteBufHolder {

    private final long sourceHigh;
    private final long sourceLow;
    private final long destinationHigh;
    private final long destinationLow;
    private final int nextHeader;

    /** Addresses as two longs each (see {@link Ipv6Addresses}). */
    public Ipv6Datagram(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow, int nextHeader,
                        ByteBuf segment) {
        super(segment);
        if (nextHeader < 0 || nextHeader > 0xFF) {
            throw new IllegalArgumentException("nextHeader must be within 0..255: " + nextHeader);
        }
        this.sourceHigh = sourceHigh;
        this.sourceLow = sourceLow;
        this.destinationHigh = destinationHigh;
        this.destinationLow = destinationLow;
        this.nextHeader = nextHeader;
    }

    public Ipv6Datagram(Inet6Address source, Inet6Address destination, int nextHeader, ByteBuf segment) {
        this(Ipv6Addresses.high(source), Ipv6Addresses.low(source), Ipv6Addresses.high(destination),
                Ipv6Addresses.low(destination), nextHeader, segment);
    }

    public long sourceHigh() {
        return sourceHigh;
    }

    public long sourceLow() {
        return sourceLow;
    }

    public long destinationHigh() {
        return destinationHigh;
    }

    public long destinationLow() {
        return destinationLow;
    }

    public Inet6Address source() {
        return Ipv6Addresses.toInet(sourceHigh, sourceLow);
    }

    public Inet6Address destination() {
        return Ipv6Addresses.toInet(destinationHigh, destinationLow);
    }

    public int nextHeader() {
        return nextHeader;
    }

    @Override
    public Ipv6Datagram replace(ByteBuf content) {
        return new Ipv6Datagram(sourceHigh, sourceLow, destinationHigh, destinationLow, nextHeader, content);
    }

    @Override
    public Ipv6Datagram copy() {
        return replace(content().copy());
    }

    @Override
    public Ipv6Datagram duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public Ipv6Datagram retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public Ipv6Datagram retain() {
        super.retain();
        return this;
    }

    @Override
    public Ipv6Datagram retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public Ipv6Datagram touch() {
        super.touch();
        return this;
    }

    @Override
    public Ipv6Datagram touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Ipv6Datagram(" + Ipv6Addresses.toString(sourceHigh, sourceLow) + " -> "
                + Ipv6Addresses.toString(destinationHigh, destinationLow) + ", nextHeader=" + nextHeader + ", "
                + content().readableBytes() + " bytes)";
    }
}
