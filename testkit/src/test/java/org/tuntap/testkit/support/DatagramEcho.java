package org.tuntap.testkit.support;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.DatagramPacket;

import java.net.InetSocketAddress;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A UDP echo at the top of the codec pipeline (the examples' {@code UdpEchoHandler}, which the
 * test kit cannot see): answers every {@link DatagramPacket} to its sender from the address it
 * was sent to, and records a copy of each for the test thread to check.
 */
@ChannelHandler.Sharable
public final class DatagramEcho extends SimpleChannelInboundHandler<DatagramPacket> {

    /** A datagram the echo saw: copied payload, addresses, and the thread that handled it. */
    public record Seen(byte[] payload, InetSocketAddress sender, InetSocketAddress recipient, Thread thread) {
    }

    private final BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
        seen.add(new Seen(ByteBufUtil.getBytes(packet.content()), packet.sender(), packet.recipient(),
                Thread.currentThread()));
        ctx.write(new DatagramPacket(packet.content().retain(), packet.sender(), packet.recipient()));
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    /** The next datagram the echo saw, waiting up to five seconds; null if none came. */
    public Seen next() throws InterruptedException {
        return seen.poll(5, TimeUnit.SECONDS);
    }
}
