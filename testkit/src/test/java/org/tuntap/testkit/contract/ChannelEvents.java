package org.tuntap.testkit.contract;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Records what reaches the end of a raw channel's pipeline, in order, for the test thread: each
 * packet read (copied, then released), each read completion, exceptions, writability changes
 * and inactivity.
 */
final class ChannelEvents extends ChannelInboundHandlerAdapter {

    /** One recorded event; {@code packet} for READ, {@code cause} for EXCEPTION, {@code writable} for WRITABILITY. */
    record Event(Kind kind, byte[] packet, Throwable cause, boolean writable) {
        static Event of(Kind kind) {
            return new Event(kind, null, null, false);
        }

        /** The packet's bytes in hex: an unexpected read in a failure message says what it was. */
        @Override
        public String toString() {
            return "Event[" + kind + (packet == null ? "" : " " + ByteBufUtil.hexDump(packet))
                    + (cause == null ? "" : " " + cause) + (kind == Kind.WRITABILITY ? " writable=" + writable : "") + "]";
        }
    }

    enum Kind { READ, READ_COMPLETE, EXCEPTION, WRITABILITY, INACTIVE }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf packet = (ByteBuf) msg;
        try {
            events.add(new Event(Kind.READ, ByteBufUtil.getBytes(packet), null, false));
        } finally {
            packet.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        events.add(Event.of(Kind.READ_COMPLETE));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        events.add(new Event(Kind.EXCEPTION, null, cause, false));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        events.add(new Event(Kind.WRITABILITY, null, null, ctx.channel().isWritable()));
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        events.add(Event.of(Kind.INACTIVE));
    }

    /** The next event, waiting up to {@link TunFixture#TIMEOUT_SECONDS}; null when none came. */
    Event next() throws InterruptedException {
        return events.poll(TunFixture.TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** The next event if one comes within {@code millis}: for checking that nothing more happens. */
    Event nextWithin(long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }
}
