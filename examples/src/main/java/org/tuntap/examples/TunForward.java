package org.tuntap.examples;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import org.tuntap.transport.TunAddress;
import org.tuntap.transport.TunChannel;
import org.tuntap.transport.TunChannelOption;
import org.tuntap.transport.TunOffload;
import org.tuntap.codec.vnet.VirtioNetHeader;
import org.tuntap.transport.linux.LinuxTun;
import org.tuntap.transport.spi.TunIoSystem;

import java.util.EnumSet;
import java.util.concurrent.TimeUnit;

/**
 * A packet forwarder between two existing TUN devices, the Netty twin of a minimal C forwarder:
 * two {@link TunChannel}s on one event loop, each writing what the other reads.
 *
 * <pre>java -jar examples/target/tun-forward.jar DEV_A DEV_B [--offload]</pre>
 *
 * With {@code --offload} both channels carry a {@link VirtioNetHeader} and ask for every offload,
 * so TCP (and UDP) super-packets of up to 64 KiB cross in one read and one write, header and all.
 * Prints {@code ready} once both devices are attached, runs until SIGTERM (or a device goes away),
 * then prints the packets and bytes (as read, headers included) forwarded each way.
 */
public final class TunForward {
    static final String USAGE = "usage: java -jar tun-forward.jar DEV_A DEV_B [--offload]";

    private TunForward() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3 || (args.length == 3 && !args[2].equals("--offload"))) {
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        LinuxTun.ensureAvailability();
        UdpEchoApp.setNettyMachineId();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        Forwarding forwarding = start(LinuxTun.ioSystem(), group, args[0], args[1], args.length == 3);
        // The hook only asks main to stop and waits for the totals: closing from the hook raced
        // main's shutdown of the loop (a rejected close, and the JVM gone before the totals).
        StopSignal stop = new StopSignal();
        Runtime.getRuntime().addShutdownHook(stop.shutdownHook());
        forwarding.closeFuture().addListener(f -> stop.request(StopSignal.Reason.DEVICE_CLOSED));
        System.out.println("ready " + forwarding.describe());
        System.out.flush();
        stop.await(0);
        forwarding.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        System.out.println(forwarding.totals());
        System.out.flush();
        stop.finished();
    }

    /**
     * Attaches to both devices on {@code group} and starts forwarding.
     *
     * @param offload whether to carry virtio-net headers and ask for every offload
     */
    static Forwarding start(TunIoSystem io, EventLoopGroup group, String deviceA, String deviceB, boolean offload)
            throws InterruptedException {
        Relay toB = new Relay();
        Relay toA = new Relay();
        TunChannel a = bind(io, group, deviceA, offload, toB);
        TunChannel b;
        try {
            b = bind(io, group, deviceB, offload, toA);
        } catch (RuntimeException | InterruptedException | Error e) {
            a.close().syncUninterruptibly();
            throw e;
        }
        toB.peer = b;
        toA.peer = a;
        // One device gone is the end of forwarding: close the other too.
        a.closeFuture().addListener(f -> b.close());
        b.closeFuture().addListener(f -> a.close());
        return new Forwarding(a, b, toB, toA, offload);
    }

    private static TunChannel bind(TunIoSystem io, EventLoopGroup group, String device, boolean offload, Relay relay)
            throws InterruptedException {
        Bootstrap bootstrap = new Bootstrap().group(group)
                .channelFactory(TunChannel.factory(io))
                .option(ChannelOption.AUTO_READ, false) // until the peer exists
                .handler(relay);
        if (offload) {
            bootstrap.option(TunChannelOption.VNET_HDR, true)
                    .option(TunChannelOption.OFFLOADS, EnumSet.allOf(TunOffload.class));
        }
        return (TunChannel) bootstrap.bind(new TunAddress(device)).sync().channel();
    }

    /** Both channels and their counters. */
    static final class Forwarding {
        final TunChannel a;
        final TunChannel b;
        final Relay toB;
        final Relay toA;
        private final boolean offload;

        Forwarding(TunChannel a, TunChannel b, Relay toB, Relay toA, boolean offload) {
            this.a = a;
            this.b = b;
            this.toB = toB;
            this.toA = toA;
            this.offload = offload;
            a.config().setAutoRead(true);
            b.config().setAutoRead(true);
        }

        /** Done when forwarding stops: either channel closing closes the other. */
        io.netty.util.concurrent.Future<?> closeFuture() {
            return a.closeFuture();
        }

        void close() {
            a.close().syncUninterruptibly();
            b.close().syncUninterruptibly();
        }

        String describe() {
            return a.localAddress().name() + " <-> " + b.localAddress().name()
                    + (offload ? " offloads " + a.config().getAppliedOffloads() + " / " + b.config().getAppliedOffloads()
                    : " without offloads");
        }

        String totals() {
            return "forwarded " + a.localAddress().name() + " -> " + b.localAddress().name() + ": " + toB.packets
                    + " packets, " + toB.bytes + " bytes; " + b.localAddress().name() + " -> " + a.localAddress().name()
                    + ": " + toA.packets + " packets, " + toA.bytes + " bytes; write errors " + (toB.writeErrors + toA.writeErrors);
        }
    }

    /**
     * Writes every packet its channel reads to the peer (one flush per read batch), and stops
     * reading while the peer cannot take more. Counters are touched on the loop only and read
     * after it stops.
     */
    static final class Relay extends ChannelInboundHandlerAdapter {
        volatile Channel peer;
        long packets;
        long bytes;
        long writeErrors;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf packet = (ByteBuf) msg;
            packets++;
            bytes += packet.readableBytes();
            peer.write(packet, peer.voidPromise());
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            peer.flush();
            if (!peer.isWritable()) {
                ctx.channel().config().setAutoRead(false);
            }
        }

        /** This channel drained: let the peer, which feeds it, read again. */
        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable() && peer != null) {
                peer.config().setAutoRead(true);
            }
            ctx.fireChannelWritabilityChanged();
        }

        /** A write the kernel refused (void promise) arrives here: count it, keep forwarding. */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            writeErrors++;
        }
    }
}
