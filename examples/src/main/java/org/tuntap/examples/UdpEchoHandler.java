package org.tuntap.examples;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.util.concurrent.atomic.LongAdder;

/**
 * A UDP echo, written exactly as it would be for a Netty UDP socket: it sees
 * {@link DatagramPacket}s and answers each to its sender, from the address it was sent to. That
 * the datagrams come out of a TUN/TAP device is the codecs' business, not this handler's.
 */
@ChannelHandler.Sharable
public final class UdpEchoHandler extends SimpleChannelInboundHandler<DatagramPacket> {
    private final LongAdder echoed = new LongAdder();

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        // The content is a slice of the packet the channel read: retain it for the reply, no copy.
        ctx.write(new DatagramPacket(packet.content().retain(), packet.sender(), packet.recipient()), ctx.voidPromise());
        echoed.increment();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush(); // one flush per read batch, not per datagram
    }

    /** Datagrams answered so far. */
    public long echoed() {
        return echoed.sum();
    }
}
