package org.tuntap.examples;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.concurrent.atomic.LongAdder;

/**
 * The echo without the codecs, at the packet level, doing exactly what the C baseline of the
 * native benchmark does: swap the IPv4 addresses and the UDP ports in place and write the same
 * buffer back. Swapping 16-bit words leaves both checksums valid, so nothing is recomputed.
 * Comparing it with {@link UdpEchoHandler} behind the codecs separates what the transport costs
 * from what the pipeline above it costs. TUN without packet information only.
 */
@ChannelHandler.Sharable
public final class PacketSwapEcho extends ChannelInboundHandlerAdapter {
    private final LongAdder echoed = new LongAdder();
    private final LongAdder ignored = new LongAdder();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf packet = (ByteBuf) msg;
        int at = packet.readerIndex();
        int headerLength = (packet.getByte(at) & 0x0f) * 4;
        if (packet.readableBytes() < 28 || (packet.getByte(at) & 0xf0) != 0x40 || packet.getByte(at + 9) != 17
                || headerLength < 20 || packet.readableBytes() < headerLength + 8) {
            packet.release(); // not IPv4/UDP: router solicitations and the like
            ignored.increment();
            return;
        }
        int source = packet.getInt(at + 12);
        packet.setInt(at + 12, packet.getInt(at + 16));
        packet.setInt(at + 16, source);
        int sourcePort = packet.getShort(at + headerLength);
        packet.setShort(at + headerLength, packet.getShort(at + headerLength + 2));
        packet.setShort(at + headerLength + 2, sourcePort);
        ctx.write(packet, ctx.voidPromise());
        echoed.increment();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
    }

    public long echoed() {
        return echoed.sum();
    }

    public long ignored() {
        return ignored.sum();
    }
}
