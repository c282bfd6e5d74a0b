package org.tuntap.codec.ipv4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

import java.net.Inet4Address;

/**
 * An outbound request to the IPv4 layer: send {@link #content()} (a transport segment, e.g. a
 * UDP header and payload) from {@link #source()} to {@link #destination()} with this protocol
 * number. {@link Ipv4Codec} puts the header in front; TTL, DSCP, DF and identification come
 * from the codec's settings.
 */
public final class Ipv4Datagram extends DefaultByteBufHolder {

    private final int source;
    private final int destination;
    private final int protocol;

    /** Addresses as big-endian ints (see {@link Ipv4Addresses#toInt}). */
    public Ipv4Datagram(int source, int destination, int protocol, ByteBuf segment) {
        super(segment);
        if (protocol < 0 || protocol > 0xFF) {
            throw new IllegalArgumentException("protocol must be within 0..255: " + protocol);
        }
        this.source = source;
        this.destination = destination;
        this.protocol = protocol;
    }

    public Ipv4Datagram(Inet4Address source, Inet4Address destination, int protocol, ByteBuf segment) {
        this(Ipv4Addresses.toInt(source), Ipv4Addresses.toInt(destination), protocol, segment);
    }

    public int source() {
        return source;
    }

    public int destination() {
        return destination;
    }

    public int protocol() {
        return protocol;
    }

    @Override
    public Ipv4Datagram replace(ByteBuf content) {
        return new Ipv4Datagram(source, destination, protocol, content);
    }

    @Override
    public Ipv4Datagram copy() {
        return replace(content().copy());
    }

    @Override
    public Ipv4Datagram duplicate() {
        return replace(content().duplicate());
    }

    @Override
    public Ipv4Datagram retainedDuplicate() {
        return replace(content().retainedDuplicate());
    }

    @Override
    public Ipv4Datagram retain() {
        super.retain();
        return this;
    }

    @Override
    public Ipv4Datagram retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public Ipv4Datagram touch() {
        super.touch();
        return this;
    }

    @Override
    public Ipv4Datagram touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "Ipv4Datagram(" + Ipv4Addresses.toString(source) + " -> " + Ipv4Addresses.toString(destination)
                + ", protocol=" + protocol + ", " + content().readableBytes() + " bytes)";
    }
}
