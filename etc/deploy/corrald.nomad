# corrald on Nomad: one per client node (a system job), every node running
# the same fleet, the checkpoints and the leases in one PostgreSQL
# database, so that each thread runs on one node at a time and moves when
# its node dies (docs/SCALING.md).  etc/deploy/README.md says how to run
# it; the password is a Nomad variable:
#
#   nomad var put nomad/jobs/corrald pg_password='...'
#   nomad job run etc/deploy/corrald.nomad
job "corrald" {
  type = "system"

  group "corrald" {
    # The node's own state: its events, operator stops and breakers
    # survive the allocation.  Declared in each client's configuration
    # (etc/deploy/README.md).
    volume "corral-state" {
      type   = "host"
      source = "corral-state"
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    task "corrald" {
      driver = "docker"
      user   = "10001:10001"

      config {
        image = "corrald:latest"
        args  = ["-c", "/local/fleet.ini"]
      }

      # SIGTERM: corrald stops every worker with its stop_signal and
      # stop_timeout, releases its leases, then exits 0.  Above the longest
      # stop_timeout (20s) plus that; the client's max_kill_timeout (30s by
      # default) must allow it.
      kill_signal  = "SIGTERM"
      kill_timeout = "45s"

      volume_mount {
        volume      = "corral-state"
        destination = "/var/lib/corral"
      }

      env {
        CORRAL_SOCKET = "/run/corral/corrald.sock"
      }

      # The password, as an environment variable libpq reads.
      template {
        data        = <<-EOT
          PGPASSWORD={{ with nomadVar "nomad/jobs/corrald" }}{{ .pg_password }}{{ end }}
        EOT
        destination = "secrets/pg.env"
        env         = true
      }

      # The fleet file, with this node's name.  A change is a reload:
      # corrald re-reads the file on SIGHUP.
      template {
        destination   = "local/fleet.ini"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          [corrald]
          node_name = {{ env "node.unique.name" }}
          lease_ttl = 15s
          checkpoint_db = host=corral-postgres.service.consul user=corral
            port=5432 dbname=corral sslmode=prefer connect_timeout=5
          state_db = /var/lib/corral/corral-state.db
          run_dir = /run/corral
          log_dir = /var/lib/corral/log
          cgroup = off

          [defaults]
          stdout = inherit
          stderr = inherit
          stop_timeout = 20s

          ; Every node runs every agent's instances; the lease of each
          ; thread lets one node run it, the others show it ELSEWHERE.
          [agent:counter]
          command = /usr/local/share/corral/examples/counter
            --to 1000000 --step-ms 1000
          numprocs = 4
          thread_id = counter/%(instance)
        EOT
      }

      # corralctl version is answered by corrald's event loop: a corrald
      # that no longer turns it is restarted.  Script checks need Consul;
      # without it, leave this block out.
      service {
        name     = "corrald"
        provider = "consul"

        check {
          type     = "script"
          name     = "corrald answers"
          command  = "corralctl"
          args     = ["version"]
          interval = "10s"
          timeout  = "5s"

          check_restart {
            limit = 3
            grace = "20s"
          }
        }
      }

      resources {
        cpu    = 100
        memory = 128
      }
    }
  }
}
