package org.tuntap.transport.pcap;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelConfig;
import org.tuntap.transport.TunMode;
import org.tuntap.transport.spi.TunIoctl;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Captures the raw traffic of a {@link TunChannel} to a pcap file, as the kernel sees it: every
 * packet read from the device and every packet written to it, with timestamps. Put it first in
 * the pipeline, next to the channel ({@code pipeline.addFirst("pcap", new TunPcapHandler(out))}),
 * below any codec, so it sees the device's packets and not datagrams.
 *
 * <p>The link type follows the device: {@code LINKTYPE_RAW} (101) for TUN, IP packets;
 * {@code LINKTYPE_ETHERNET} (1) for TAP, Ethernet frames. When the channel carries packet
 * information, the 4-byte PI header is left out of the capture (pcap has no place for it), and
 * so is the virtio-net header with {@link org.tuntap.transport.TunChannelOption#VNET_HDR} (an
 * offloaded super-packet is then captured as one packet of up to 64 KiB).
 * Written packets are captured when the pipeline hands them to the channel; one the device then
 * refuses is still in the capture (the channel's {@link TunChannel#counters() counters} count it).
 *
 * <p>The output is buffered and flushed after each read batch and each flush; it is closed when
 * the channel closes or the handler is removed. If writing the capture fails, the error is logged
 * once and capturing stops; the traffic is not affected. Not sharable: one file per channel.
 */
public final class TunPcapHandler extends ChannelDuplexHandler {
    private static final InternalLogger logger = InternalLoggerFactory.getInstance(TunPcapHandler.class);

    private final OutputStream out;
    // Timestamps: the wall clock at start plus the monotonic clock since, so no allocation per packet.
    private final long startEpochMicros = System.currentTimeMillis() * 1000;
    private final long startNanos = System.nanoTime();

    private PcapWriter writer;
    /** Bytes in front of each packet that are not the packet: PI and virtio-net headers. */
    private int prefixLength;
    private boolean stopped;

    /** Captures to {@code out}, which the handler buffers and closes when done. */
    public TunPcapHandler(OutputStream out) {
        if (out == null) {
            throw new NullPointerException("out");
        }
        this.out = new BufferedOutputStream(out, 64 * 1024);
    }

    /** Captures to a new file at {@code path} (replacing one that is there). */
    public static TunPcapHandler toFile(Path path) throws IOException {
        return new TunPcapHandler(Files.newOutputStream(path));
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (!(ctx.channel() instanceof TunChannel)) {
            throw new IllegalStateException("TunPcapHandler captures a TunChannel's packets, not "
                    + ctx.channel().getClass().getName() + "'s");
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        writer(ctx); // the file has its header even if no packet ever comes
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf) {
            capture(ctx, (ByteBuf) msg);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof ByteBuf) {
            capture(ctx, (ByteBuf) msg);
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flushCapture();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
        flushCapture();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeCapture(ctx);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        closeCapture(ctx);
    }

    private void capture(ChannelHandlerContext ctx, ByteBuf packet) {
        PcapWriter pcap = writer(ctx);
        if (pcap == null) {
            return;
        }
        int length = packet.readableBytes() - prefixLength;
        if (length <= 0) {
            return; // not even the headers: the device refuses such a write; nothing to show
        }
        try {
            pcap.write(epochMicros(), packet, packet.readerIndex() + prefixLength, length);
        } catch (IOException e) {
            stop(e);
        }
    }

    private long epochMicros() {
        return startEpochMicros + (System.nanoTime() - startNanos) / 1000;
    }

    /** The writer, made at the first packet or activation, when the device's mode is settled. */
    private PcapWriter writer(ChannelHandlerContext ctx) {
        if (writer == null && !stopped) {
            TunChannelConfig config = ((TunChannel) ctx.channel()).config();
            prefixLength = (config.isPacketInfo() ? TunIoctl.PI_HEADER_LENGTH : 0)
                    + (config.isVnetHdr() ? TunIoctl.VNET_HDR_LENGTH : 0);
            try {
                writer = new PcapWriter(out, config.getMode() == TunMode.TAP
                        ? PcapWriter.LINKTYPE_ETHERNET : PcapWriter.LINKTYPE_RAW);
            } catch (IOException e) {
                stop(e);
            }
        }
        return writer;
    }

    private void flushCapture() {
        if (writer != null) {
            try {
                writer.flush();
            } catch (IOException e) {
                stop(e);
            }
        }
    }

    private void closeCapture(ChannelHandlerContext ctx) {
        if (stopped) {
            return;
        }
        writer(ctx); // a channel that never became active still leaves a readable, empty capture
        stopped = true;
        try {
            out.close();
        } catch (IOException e) {
            logger.warn("{}: closing the capture failed", ctx.channel(), e);
        }
        writer = null;
    }

    private void stop(IOException e) {
        logger.warn("writing the pcap capture failed; capturing stops (traffic goes on)", e);
        stopped = true;
        writer = null;
        try {
            out.close();
        } catch (IOException ignored) {
            // already failing
        }
    }
}
